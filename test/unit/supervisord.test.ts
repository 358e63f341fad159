// Unit tests of the supervisord step's pure parts: quoting, the ini edit, % references, rendering.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveConfig } from '../../src/1-config/resolve.ts';
import { parseGroup, parsePasswd, userDb } from '../../src/1-config/users.ts';
import type { Context } from '../../src/1-config/variables.ts';
import { BootstrapError } from '../../src/errors.ts';
import { findOption, findSection, joinLines, optionValue, setOption, splitLines } from '../../src/4-supervisord/ini.ts';
import { editPairs, splitPairs, tokenSpans } from '../../src/4-supervisord/pairs.ts';
import { quoteValue, quotedPairs } from '../../src/4-supervisord/quote.ts';
import { percentReferences, render } from '../../src/4-supervisord/render.ts';
import { ShlexError, keyValuePairs, shlexTokens } from '../../src/4-supervisord/shlex.ts';
import { supervisordReason } from '../../src/4-supervisord/trial.ts';
import { HARD_CHARACTERS, randomTexts, seed } from '../support/random.ts';

const ctx: Context = { users: userDb(parsePasswd('root:x:0:0::/root:/bin/sh\n'), parseGroup('root:x:0:\n')), euid: 0, egid: 0, randomHex: (n) => 'ab'.repeat(n) };
const config = (values: Record<string, string> = {}) => resolveConfig([{ source: 'environment', values }], ctx);

describe('quoteValue', () => {
  const accepted: [string, string][] = [
    ['plain', '"plain"'],
    ['', '""'],
    ['with space', '"with space"'],
    ['a,b=c;d#e', '"a,b=c;d#e"'],
    ["it's", '"it\'s"'],
    ['say "hi" now', "'say \"hi\" now'"],
    ['100%', '"100%%"'],
    ['%(ENV_HOME)s', '"%%(ENV_HOME)s"'],
    ['C:\\dir\\file', '"C:\\dir\\file"'],
    ['two\\\\back', "'two\\\\back'"],
    ['ends\\', "'ends\\'"],
    ['tab\there', '"tab\there"'],
    ['é中🎬', '"é中🎬"'],
    ['line\u2028sep\x85\x0b', '"line\u2028sep\x85\x0b"'],
    ['bom\ufeff;x', '"bom\ufeff;x"'],
  ];
  for (const [value, quoted] of accepted) {
    test(`writes ${JSON.stringify(value)} as ${quoted}`, () => {
      assert.deepEqual(quoteValue(value), { text: quoted });
    });
  }
  const refused: [string, RegExp][] = [
    ['both \' and " here', /both quote characters/],
    ['"leading', /starts or ends with a quote character \("\)/],
    ["trailing'", /starts or ends with a quote character \('\)/],
    ['a ;comment', /holds ";" after a space/],
    ['a\t#comment', /holds "#" after U\+0009/],
    ['new\nline', /control character \(U\+000A\)/],
    ['carriage\rreturn', /control character \(U\+000D\)/],
    ['nul\0byte', /control character \(U\+0000\)/],
    ['nbsp\u00a0;comment', /holds ";" after U\+00A0/],
    ['fs\x1c#comment', /holds "#" after U\+001C/],
    ["it's \\\\ two", /holds ' and a backslash/],
    ["it's\\", /holds ' and a backslash/],
  ];
  for (const [value, reason] of refused) {
    test(`refuses ${JSON.stringify(value)}`, () => {
      const quoted = quoteValue(value);
      assert.ok('refused' in quoted);
      assert.match(quoted.refused, reason);
    });
  }

  test('every accepted value reads back exactly in both shlex modes, after supervisord\'s % expansion', () => {
    for (const [value] of accepted) {
      const quoted = quoteValue(value);
      assert.ok('text' in quoted);
      const line = `K=${quoted.text.replaceAll('%%', '%')},L="x"`;
      for (const posix of [false, true]) assert.equal(keyValuePairs(line, posix).get('K'), value, `${value} posix=${String(posix)}`);
    }
  });
});

test('quotedPairs hides secrets in the shown pair and names the variable of each refusal', () => {
  const quoted = quotedPairs([
    { name: 'HOST', value: '0.0.0.0', variable: 'M3U_PROXY_HOST' },
    { name: 'API_TOKEN', value: 's3cret', variable: 'M3U_PROXY_TOKEN', secret: true },
  ]);
  assert.ok('pairs' in quoted);
  assert.deepEqual([...quoted.pairs], [
    ['HOST', { text: 'HOST="0.0.0.0"', shown: 'HOST="0.0.0.0"' }],
    ['API_TOKEN', { text: 'API_TOKEN="s3cret"', shown: 'API_TOKEN="<hidden>"' }],
  ]);
  const refused = quotedPairs([{ name: 'API_TOKEN', value: 'a\'b"c', variable: 'M3U_PROXY_TOKEN', secret: true }]);
  assert.ok('problems' in refused);
  assert.match(refused.problems[0] ?? '', /^M3U_PROXY_TOKEN cannot be passed to m3u-proxy through supervisord exactly: it holds both quote characters/);
  assert.ok(!(refused.problems[0] ?? '').includes('a\'b'), 'a refused secret is not printed');
});

describe('the environment= value as pairs', () => {
  test('tokens fall where CPython\'s non-POSIX shlex puts them, on random text', () => {
    const s = seed();
    const alphabet = [...HARD_CHARACTERS, '=', '=', ',', ',', 'K', 'V', '"', "'", '#', ' ', '\n'];
    for (const text of [...randomTexts(s, 3000, 24, alphabet), 'ab#c\nde', 'a"b c"d', '"x"y', 'é=1', '🎬,x']) {
      let expected: string[] | 'error';
      try {
        expected = shlexTokens(text, false);
      } catch (error) {
        assert.ok(error instanceof ShlexError);
        expected = 'error';
      }
      let spans: string[] | 'error';
      try {
        spans = tokenSpans(text).map((token) => token.text);
      } catch (error) {
        assert.ok(error instanceof ShlexError);
        spans = 'error';
      }
      assert.deepEqual(spans, expected, `${JSON.stringify(text)} (seed ${s})`);
    }
  });

  test('splits as supervisord pairs, each pair and separator as written, references read as words', () => {
    const value = 'A="%(ENV_A)s", B = x%(ENV_B)sy ,C=\'it"s\',D=plain/path:1';
    const list = splitPairs(value);
    assert.deepEqual(list.pairs, [
      { key: 'A', text: 'A="%(ENV_A)s"' },
      { key: 'B', text: 'B = x%(ENV_B)sy' },
      { key: 'C', text: 'C=\'it"s\'' },
      { key: 'D', text: 'D=plain/path:1' },
    ]);
    assert.deepEqual(list.separators, [', ', ' ,', ',']);
    assert.equal(list.lead + list.pairs.map((p, i) => p.text + (list.separators[i] ?? '')).join('') + list.tail, value);
    assert.deepEqual(splitPairs('A="1",'), { lead: '', pairs: [{ key: 'A', text: 'A="1"' }], separators: [], tail: ',' });
    assert.deepEqual(splitPairs(''), { lead: '', pairs: [], separators: [], tail: '' });
    assert.throws(() => splitPairs('A="1",B'), /Unexpected end of key\/value pairs/);
    assert.throws(() => splitPairs('A="1'), /No closing quotation/);
  });

  test('an edit sets owned keys in place, keeps every other pair byte for byte, and appends what is missing', () => {
    const settings = new Map([['A', { text: 'A="new"', shown: 'A="new"' }], ['T', { text: 'T="tok"', shown: 'T="<hidden>"' }]]);
    assert.deepEqual(editPairs(splitPairs('X = "%(ENV_X)s" ,A="old",Y=y'), settings), {
      text: 'X = "%(ENV_X)s" ,A="new",Y=y,T="tok"', shown: 'X = "%(ENV_X)s" ,A="new",Y=y,T="<hidden>"', appended: ['T'], kept: ['X', 'Y'],
    });
    assert.equal(editPairs(splitPairs('A="1",'), settings).text, 'A="new",T="tok"', 'a trailing separator serves the appended pair');
    assert.equal(editPairs(splitPairs('A="1",A="2"'), settings).text, 'A="new",A="new",T="tok"', 'a repeated key is set each time');
    assert.equal(editPairs(splitPairs(''), settings).text, 'A="new",T="tok"');
  });
});

test('supervisord\'s reason: the last line of a traceback, else its Error: line, without the list of names', () => {
  const traceback = 'Traceback (most recent call last):\n  File "/usr/bin/supervisord", line 33, in <module>\n    sys.exit(main())\n'
    + "PermissionError: [Errno 13] Permission denied: '/var/log/supervisor/supervisord.log'\n";
  assert.equal(supervisordReason(traceback), "PermissionError: [Errno 13] Permission denied: '/var/log/supervisor/supervisord.log'");
  assert.equal(supervisordReason("Error: Invalid user name x in section 'program:m3u-proxy'\nFor help, use /usr/bin/supervisord -h\n"),
    "Error: Invalid user name x in section 'program:m3u-proxy'");
  assert.equal(supervisordReason("Error: Format string '%(ENV_X)s' for 'command' contains names ('ENV_X') which cannot be expanded. Available names: ENV_A, ENV_B\n"),
    "Error: Format string '%(ENV_X)s' for 'command' contains names ('ENV_X') which cannot be expanded.");
  assert.equal(supervisordReason(''), 'no output');
});

describe('the ini edit', () => {
  const template = '; head\n[supervisord]\nnodaemon=true\n\n[program:m3u-proxy]\ncommand=x\nenvironment=A="1",\n    B="2"\n; note\n  C="3"\npriority=7\n\n[program:other]\nenvironment=KEEP="me"\n';

  test('replaces environment= with its continuation lines, and nothing else', () => {
    const lines = splitLines(template);
    const section = findSection(lines, 'program:m3u-proxy');
    assert.ok(section);
    const option = findOption(lines, section, 'environment');
    assert.deepEqual(option, { start: 6, end: 10 });
    assert.equal(optionValue(lines, option), 'A="1",\nB="2"\nC="3"');
    const edited = joinLines(setOption(lines, section, 'environment', 'environment=NEW="v"').lines);
    assert.equal(edited, '; head\n[supervisord]\nnodaemon=true\n\n[program:m3u-proxy]\ncommand=x\nenvironment=NEW="v"\npriority=7\n\n[program:other]\nenvironment=KEEP="me"\n');
  });

  test('adds environment= after the section\'s last line when it has none, keeping the blank line', () => {
    const lines = splitLines('[program:m3u-proxy]\ncommand=x\n\n[x]\n');
    const section = findSection(lines, 'program:m3u-proxy');
    assert.ok(section);
    const { lines: edited, added } = setOption(lines, section, 'environment', 'environment=A="1"');
    assert.equal(added, true);
    assert.equal(joinLines(edited), '[program:m3u-proxy]\ncommand=x\nenvironment=A="1"\n\n[x]\n');
    const last = splitLines('[program:m3u-proxy]\ncommand=x');
    assert.equal(joinLines(setOption(last, { start: 0, end: 2 }, 'environment', 'environment=A="1"').lines), '[program:m3u-proxy]\ncommand=x\nenvironment=A="1"');
  });

  test('keeps CRLF line ends, and keys in any case with = or :', () => {
    const lines = splitLines('[program:m3u-proxy]\r\nEnvironment : A="1"\r\npriority=7\r\n');
    const section = findSection(lines, 'program:m3u-proxy');
    assert.ok(section);
    assert.equal(joinLines(setOption(lines, section, 'environment', 'environment=B="2"').lines), '[program:m3u-proxy]\r\nenvironment=B="2"\r\npriority=7\r\n');
  });

  test('a section header with an inline comment is still found', () => {
    assert.ok(findSection(splitLines('[program:m3u-proxy] ; the proxy\ncommand=x\n'), 'program:m3u-proxy'));
  });
});

test('% references: %% is literal, %(NAME)s is a reference, a lone % is badly formatted, comments do not count', () => {
  assert.deepEqual(percentReferences('a=%(ENV_A)s %%(ENV_B)s %(here)s\n; %(ENV_C)s\nb=x ;%(ENV_D)s\n'), { names: ['ENV_A', 'here'], problems: [] });
  assert.match(percentReferences('a=100%\n').problems[0] ?? '', /^line 1 has a % that is neither %% nor a %\(NAME\)s reference/);
  assert.deepEqual(percentReferences('a=%(ENV_X)d%%\n').names, ['ENV_X']);
});

describe('render', () => {
  const template = '[supervisord]\nnodaemon=true\n\n[program:m3u-proxy]\ncommand=x\nuser=%(ENV_SUPERVISOR_PHP_USER)s\n'
    + 'environment=HOST="%(ENV_M3U_PROXY_HOST)s",OWN="%(ENV_HOME)s",REDIS_PORT="%(ENV_M3U_PROXY_REDIS_PORT)s" ; the proxy\'s\n';

  test('the line keeps its own keys as written, sets the owned ones in place and appends the rest; the rest of the file stays byte for byte', () => {
    const rendered = render(template, config({ M3U_PROXY_TOKEN: 'tok', HLS_TEMP_DIR: '/data/100% hls', HOME: '/root' }));
    const expected = 'environment=HOST="127.0.0.1",OWN="%(ENV_HOME)s",REDIS_PORT="36790",HLS_TEMP_DIR="/data/100%% hls",HLS_GC_ENABLED="true",'
      + 'HLS_GC_INTERVAL="600",HLS_GC_AGE_THRESHOLD="7200",HLS_BROADCAST_DIR="/data/100%% hls",BROADCAST_GC_ENABLED="true",PORT="8085",'
      + 'LOG_LEVEL="ERROR",API_TOKEN="tok",REDIS_HOST="localhost",REDIS_SERVER_PORT="36790",REDIS_DB="6",REDIS_ENABLED="true",'
      + 'ENABLE_TRANSCODING_POOLING="true" ; the proxy\'s';
    assert.equal(rendered.line, expected);
    assert.equal(rendered.text, template.replace(/environment=.*\n/, `${expected}\n`));
    assert.equal(rendered.shown, expected.replace('API_TOKEN="tok"', 'API_TOKEN="<hidden>"'));
    assert.deepEqual(rendered.kept, ['OWN']);
    assert.deepEqual(rendered.appended, ['HLS_TEMP_DIR', 'HLS_GC_ENABLED', 'HLS_GC_INTERVAL', 'HLS_GC_AGE_THRESHOLD', 'HLS_BROADCAST_DIR',
      'BROADCAST_GC_ENABLED', 'PORT', 'LOG_LEVEL', 'API_TOKEN', 'REDIS_HOST', 'REDIS_SERVER_PORT', 'REDIS_DB', 'REDIS_ENABLED', 'ENABLE_TRANSCODING_POOLING']);
    assert.equal(rendered.entries.length, 16);
    assert.equal(rendered.secret, true);
    assert.deepEqual(rendered.references, ['SUPERVISOR_PHP_USER', 'HOME']);
  });

  test('REDIS_PORT, which the proxy does not read, is set only where the template has it; REDIS_SERVER_PORT always', () => {
    const rendered = render('[program:m3u-proxy]\ncommand=x\n', config({ M3U_PROXY_REDIS_PORT: '6380' }));
    assert.equal(rendered.added, true);
    assert.match(rendered.line, /,REDIS_SERVER_PORT="6380",/);
    assert.doesNotMatch(rendered.line, /REDIS_PORT=/);
  });

  test('a name the proxy reads, in another case in the template, gets the value too: the proxy ignores case', () => {
    const rendered = render('[program:m3u-proxy]\ncommand=x\nenvironment=HOST="a",host="0.0.0.0",Api_Token="old",Other="o"\n', config({ M3U_PROXY_TOKEN: 't' }));
    assert.match(rendered.line, /^environment=HOST="127\.0\.0\.1",host="127\.0\.0\.1",Api_Token="t",Other="o",HLS_TEMP_DIR=/);
    assert.match(rendered.shown, /Api_Token="<hidden>"/);
    assert.deepEqual(rendered.kept, ['Other']);
  });

  test('rendering a rendered file again gives the same file', () => {
    const c = config({ M3U_PROXY_TOKEN: 'tok', HOME: '/root' });
    const once = render(template, c).text;
    assert.equal(render(once, c).text, once);
  });

  test('an environment= on continuation lines is written back on them, reading the same', () => {
    const multi = '[program:m3u-proxy]\r\ncommand=x\r\nenvironment=KEEP="a",\r\n  HOST="x"\r\npriority=7\r\n';
    const rendered = render(multi, config());
    assert.match(rendered.text, /^environment=KEEP="a",\r\n {4}HOST="127\.0\.0\.1",HLS_TEMP_DIR=.*\r\npriority=7\r\n$/m);
    assert.equal(render(rendered.text, config()).text, rendered.text);
  });

  test('a template without the section, a line supervisord cannot read, a value it cannot carry, a missing reference: 78, all at once', () => {
    assert.throws(() => render('[supervisord]\n', config({ M3U_PROXY_TOKEN: 'a"b\'c' })), (e: unknown) => e instanceof BootstrapError && e.exitCode === 78
      && e.problems.length === 2 && /no \[program:m3u-proxy\] section/.test(e.problems[0] ?? ''));
    assert.throws(() => render(`${template}directory=%(ENV_NOT_SET)s\nx=%(ENV_ALSO_NOT)s\n`, config()), (e: unknown) => e instanceof BootstrapError
      && e.problems.length === 3 && /%\(ENV_NOT_SET\)s, but NOT_SET is not set/.test(e.problems[1] ?? '') && /HOME is not set/.test(e.problems[0] ?? ''));
    assert.throws(() => render(template, config({ M3U_PROXY_TOKEN: 'a"b\'c', HOME: '/' })), (e: unknown) => e instanceof BootstrapError
      && /^M3U_PROXY_TOKEN cannot be passed/.test(e.problems[0] ?? ''));
    assert.throws(() => render('[program:m3u-proxy]\nenvironment=A="1",B\n', config()), (e: unknown) => e instanceof BootstrapError
      && /^supervisord cannot read the template's environment= in \[program:m3u-proxy\]: Unexpected end of key\/value pairs/.test(e.problems[0] ?? ''));
  });
});
