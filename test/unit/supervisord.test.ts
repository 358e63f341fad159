// Unit tests of the supervisord step's pure parts: quoting, the ini edit, % references, rendering.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveConfig } from '../../src/1-config/resolve.ts';
import { parseGroup, parsePasswd, userDb } from '../../src/1-config/users.ts';
import type { Context } from '../../src/1-config/variables.ts';
import { BootstrapError } from '../../src/errors.ts';
import { findOption, findSection, joinLines, optionValue, setOption, splitLines } from '../../src/4-supervisord/ini.ts';
import { quoteValue, environmentLine } from '../../src/4-supervisord/quote.ts';
import { percentReferences, render } from '../../src/4-supervisord/render.ts';
import { keyValuePairs } from '../../src/4-supervisord/shlex.ts';

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

test('environmentLine hides secrets in the shown line and names the variable of each refusal', () => {
  const line = environmentLine([
    { name: 'HOST', value: '0.0.0.0', variable: 'M3U_PROXY_HOST' },
    { name: 'API_TOKEN', value: 's3cret', variable: 'M3U_PROXY_TOKEN', secret: true },
  ]);
  assert.deepEqual(line, { line: 'environment=HOST="0.0.0.0",API_TOKEN="s3cret"', shown: 'environment=HOST="0.0.0.0",API_TOKEN="<hidden>"' });
  const refused = environmentLine([{ name: 'API_TOKEN', value: 'a\'b"c', variable: 'M3U_PROXY_TOKEN', secret: true }]);
  assert.ok('problems' in refused);
  assert.match(refused.problems[0] ?? '', /^M3U_PROXY_TOKEN cannot be passed to m3u-proxy through supervisord exactly: it holds both quote characters/);
  assert.ok(!(refused.problems[0] ?? '').includes('a\'b'), 'a refused secret is not printed');
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
  const template = '[supervisord]\nnodaemon=true\n\n[program:m3u-proxy]\ncommand=x\nuser=%(ENV_SUPERVISOR_PHP_USER)s\nenvironment=HOST="%(ENV_M3U_PROXY_HOST)s"\n';

  test('the line carries every proxy variable with its resolved value; the rest stays byte for byte', () => {
    const rendered = render(template, config({ M3U_PROXY_TOKEN: 'tok', HLS_TEMP_DIR: '/data/100% hls' }));
    const expected = 'environment=HLS_TEMP_DIR="/data/100%% hls",HLS_GC_ENABLED="true",HLS_GC_INTERVAL="600",HLS_GC_AGE_THRESHOLD="7200",'
      + 'HOST="127.0.0.1",PORT="8085",LOG_LEVEL="ERROR",API_TOKEN="tok",REDIS_HOST="localhost",REDIS_PORT="36790",REDIS_DB="6",'
      + 'REDIS_ENABLED="true",ENABLE_TRANSCODING_POOLING="true"';
    assert.equal(rendered.line, expected);
    assert.equal(rendered.text, template.replace(/environment=.*\n/, `${expected}\n`));
    assert.equal(rendered.shown, expected.replace('API_TOKEN="tok"', 'API_TOKEN="<hidden>"'));
    assert.equal(rendered.secret, true);
    assert.deepEqual(rendered.references, ['SUPERVISOR_PHP_USER']);
  });

  test('rendering a rendered file again gives the same file', () => {
    const c = config({ M3U_PROXY_TOKEN: 'tok' });
    const once = render(template, c).text;
    assert.equal(render(once, c).text, once);
  });

  test('a template without the section, a value supervisord cannot carry, a missing reference: 78, all at once', () => {
    assert.throws(() => render('[supervisord]\n', config()), (e: unknown) => e instanceof BootstrapError && e.exitCode === 78
      && /no \[program:m3u-proxy\] section/.test(e.message));
    assert.throws(() => render(`${template}directory=%(ENV_NOT_SET)s\nx=%(ENV_ALSO_NOT)s\n`, config()), (e: unknown) => e instanceof BootstrapError
      && e.problems.length === 2 && /%\(ENV_NOT_SET\)s, but NOT_SET is not set/.test(e.problems[0] ?? ''));
    assert.throws(() => render(template, config({ M3U_PROXY_TOKEN: 'a"b\'c' })), (e: unknown) => e instanceof BootstrapError
      && /^M3U_PROXY_TOKEN cannot be passed/.test(e.problems[0] ?? ''));
  });
});
