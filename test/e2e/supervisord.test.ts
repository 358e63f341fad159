// The supervisord step against the real thing: CPython's shlex, supervisor's own parser, and supervisord itself.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { quoteValue, quotedPairs, type LineEntry } from '../../src/4-supervisord/quote.ts';
import { keyValuePairs, shlexTokens, ShlexError } from '../../src/4-supervisord/shlex.ts';
import { PATH, SHIPPED, cli, tempDir } from '../support/cli.ts';
import { HARD_CHARACTERS, randomTexts, seed } from '../support/random.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { runSupervisord, standInConfig, writeText } from '../support/supervisord.ts';

const TEMPLATE = SHIPPED.template;

/** Runs Python with supervisor importable (Debian's python3), on `lines`, returning one JSON result per line. */
function python(script: string, lines: readonly string[]): unknown[] {
  const result = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(lines), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as unknown[];
}

const PYTHON_SPLIT = `
import json, shlex, sys
from supervisor.datatypes import dict_of_key_value_pairs
def split(text, posix):
    lexer = shlex.shlex(text, posix=posix)
    lexer.wordchars += '/.+-():'
    try:
        return list(lexer)
    except ValueError as e:
        return 'error'
def pairs(text):
    try:
        return dict_of_key_value_pairs(text)
    except ValueError:
        return 'error'
print(json.dumps([[split(t, False), split(t, True), pairs(t)] for t in json.load(sys.stdin)]))
`;

describe('the shlex port', () => {
  test('splits exactly as CPython\'s shlex in both modes, and pairs exactly as supervisor 4.2 does', (t) => {
    if (!needsProgram(t, 'supervisord')) return;
    const s = seed();
    const alphabet = [...HARD_CHARACTERS, '=', '=', ',', ',', 'K', 'V', '"', "'", '\\', '#', ' '];
    const lines = [...randomTexts(s, 3000, 24, alphabet), 'A="1",B=\'2\'', 'A=x#c\nB=y', 'A="a\\"b"', 'A=""', 'A=\'\',B=""', 'café=1'];
    const expected = python(PYTHON_SPLIT, lines) as [string[] | 'error', string[] | 'error', Record<string, string> | 'error'][];
    lines.forEach((line, i) => {
      const [nonPosix, posix, pairs] = expected[i] ?? [];
      const ours = (fn: () => unknown): unknown => {
        try {
          return fn();
        } catch (error) {
          if (error instanceof ShlexError) return 'error';
          throw error;
        }
      };
      const where = `line ${JSON.stringify(line)} (seed ${s})`;
      assert.deepEqual(ours(() => shlexTokens(line, false)), nonPosix, `non-POSIX ${where}`);
      assert.deepEqual(ours(() => shlexTokens(line, true)), posix, `POSIX ${where}`);
      const ourPairs = ours(() => Object.fromEntries(keyValuePairs(line, false)));
      assert.deepEqual(ourPairs, pairs, `pairs ${where}`);
    });
  });
});

describe('round trip through the real supervisord', () => {
  test('every value it accepts reaches the program byte for byte', async (t) => {
    if (!needsProgram(t, 'supervisord')) return;
    const s = seed();
    const fixed = ['', 'plain', 'with spaces  inside', 'a,b,c', 'k=v=w', '100% sure', '%(ENV_HOME)s', '%%', 'a#b', 'a;b', 'x#;y',
      "it's", 'say "hi" now', 'back\\slash', 'C:\\dir\\', 'two\\\\', 'tab\tin', 'é ü ß 中文 🎬', 'x'.repeat(5000),
      // Control and Unicode line characters that do not end the ini line, and U+FEFF, which is no whitespace to it.
      'v\vf\fx', '\x01\x1b[31m\x7f', 'fs\x1cgs\x1dus\x1f', 'next\x85line', 'line\u2028para\u2029', 'nbsp\u00a0in', 'bom\ufeff;x\ufeff#y',
      '/var/www/html/storage/app/hls-segments', 'ab'.repeat(24)];
    const values = [...fixed, ...randomTexts(s, 300, 30), ...randomTexts(s + 1, 100, 200, HARD_CHARACTERS.filter((c) => c !== '"'))];
    const entries: LineEntry[] = [];
    const refused: string[] = [];
    values.forEach((value, i) => {
      if ('refused' in quoteValue(value)) refused.push(value);
      else entries.push({ name: `V${i}`, value, variable: `V${i}` });
    });
    for (const value of fixed.slice(0, -2)) assert.ok(!refused.includes(value), `fixed value refused: ${JSON.stringify(value)}`);
    const built = quotedPairs(entries);
    assert.ok('pairs' in built);
    const line = `environment=${[...built.pairs.values()].map((p) => p.text).join(',')}`;
    const dir = tempDir(t);
    const conf = writeText(join(dir, 'supervisord.conf'), standInConfig(dir, line));
    const run = await runSupervisord(conf, { PATH }, join(dir, 'report.json'));
    assert.ok(run.report, `supervisord did not start the program (seed ${s}): ${run.output}`);
    for (const entry of entries) assert.equal(run.report.env[entry.name], entry.value, `${entry.name}=${JSON.stringify(entry.value)} (seed ${s})`);
    t.diagnostic(`${entries.length} values carried exactly, ${refused.length} refused (seed ${s})`);
  });

  test('render-config carries every proxy variable to the program, the token included, and keeps the template\'s own', async (t) => {
    if (!needsProgram(t, 'supervisord')) return;
    const dir = tempDir(t);
    const template = writeText(join(dir, 'template.conf'), standInConfig(dir, 'environment=OLD="x, it\'s kept"'));
    const env = {
      SUPERVISORD_TEMPLATE: template, SUPERVISORD_CONF: join(dir, 'rendered.conf'), HLS_TEMP_DIR: '/data/hls 100%',
      M3U_PROXY_TOKEN: "t0k3n, it's 50%#1;x", M3U_PROXY_HOST: '0.0.0.0', HLS_GC_ENABLED: 'OFF', M3U_PROXY_LOG_LEVEL: 'debug',
    };
    const r = cli(['render-config'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    const run = await runSupervisord(join(dir, 'rendered.conf'), { PATH }, join(dir, 'report.json'));
    assert.ok(run.report, run.output);
    assert.deepEqual(
      ['HOST', 'PORT', 'LOG_LEVEL', 'API_TOKEN', 'REDIS_HOST', 'REDIS_SERVER_PORT', 'REDIS_DB', 'REDIS_ENABLED', 'ENABLE_TRANSCODING_POOLING',
        'HLS_TEMP_DIR', 'HLS_GC_ENABLED', 'HLS_GC_INTERVAL', 'HLS_GC_AGE_THRESHOLD', 'HLS_BROADCAST_DIR', 'BROADCAST_GC_ENABLED'].map((name) => run.report?.env[name]),
      ['0.0.0.0', '8085', 'DEBUG', "t0k3n, it's 50%#1;x", 'localhost', '36790', '6', 'true', 'true', '/data/hls 100%', 'false', '600', '7200',
        '/data/hls 100%', 'true'],
    );
    assert.equal(run.report.env.OLD, "x, it's kept");
    assert.equal(run.report.env.REDIS_PORT, undefined, 'REDIS_PORT, which the proxy does not read, only where the template has it');
  });
});

describe('render-config', () => {
  test('writes the template with only environment= changed, atomically, mode 0600, the same again on a second run', (t) => {
    const dir = tempDir(t);
    const out = join(dir, 'supervisord.conf');
    const env = { SUPERVISORD_TEMPLATE: TEMPLATE, SUPERVISORD_CONF: out, M3U_PROXY_TOKEN: 'fixed-token' };
    const r = cli(['render-config'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /supervisord config written: .*supervisord\.conf \(mode 0600\), from .*: environment= of \[program:m3u-proxy\] edited: 15 variables set\n/);
    assert.ok(!r.stdout.includes('fixed-token') && !r.stderr.includes('fixed-token'), 'the token is in no log line');
    const template = readFileSync(TEMPLATE, 'utf8').split('\n');
    const written = readFileSync(out, 'utf8').split('\n');
    assert.equal(written.length, template.length);
    const changed = written.map((line, i) => (line === template[i] ? -1 : i)).filter((i) => i >= 0);
    assert.equal(changed.length, 1);
    assert.equal(written[changed[0] ?? 0], 'environment=HOST="127.0.0.1",PORT="8085",LOG_LEVEL="ERROR",API_TOKEN="fixed-token",REDIS_HOST="localhost",'
      + 'REDIS_SERVER_PORT="36790",REDIS_DB="6",REDIS_ENABLED="true",ENABLE_TRANSCODING_POOLING="true",HLS_TEMP_DIR="/var/www/html/storage/app/hls-segments",'
      + 'HLS_GC_ENABLED="true",HLS_GC_INTERVAL="600",HLS_GC_AGE_THRESHOLD="7200",HLS_BROADCAST_DIR="/var/www/html/storage/app/hls-segments",BROADCAST_GC_ENABLED="true"');
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const first = readFileSync(out, 'utf8');
    assert.equal(cli(['render-config'], { cwd: dir, env }).code, 0);
    assert.equal(readFileSync(out, 'utf8'), first);
    assert.equal(cli(['render-config', '--template', out], { cwd: dir, env }).code, 0);
    assert.equal(readFileSync(out, 'utf8'), first, 'rendering the rendered file gives it back');
    assert.deepEqual(spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout.trim().split('\n'), ['supervisord.conf'], 'no temporary file left');
  });

  test('-o - prints the file; --dry-run prints the plan with the token hidden and writes nothing', (t) => {
    const dir = tempDir(t);
    const env = { SUPERVISORD_TEMPLATE: TEMPLATE, SUPERVISORD_CONF: join(dir, 'out.conf'), M3U_PROXY_TOKEN: 'hide-me' };
    const stdout = cli(['render-config', '-o', '-'], { cwd: dir, env });
    assert.equal(stdout.code, 0);
    assert.match(stdout.stdout, /^; supervisord's config/);
    assert.match(stdout.stdout, /API_TOKEN="hide-me"/);
    const dry = cli(['render-config', '--dry-run'], { cwd: dir, env });
    assert.equal(dry.code, 0);
    assert.match(dry.stdout, /\[dry run\] would write .*out\.conf \(mode 0600\)/);
    assert.match(dry.stdout, /\[dry run\] environment=.*API_TOKEN="<hidden>"/);
    assert.ok(!dry.stdout.includes('hide-me'));
    assert.ok(!existsSync(join(dir, 'out.conf')));
  });

  test('a value supervisord cannot carry: 78 naming the variable and the character, nothing written', (t) => {
    const dir = tempDir(t);
    const out = join(dir, 'out.conf');
    const cases: [Record<string, string>, RegExp][] = [
      [{ M3U_PROXY_TOKEN: 'a\'b"c' }, /M3U_PROXY_TOKEN cannot be passed to m3u-proxy through supervisord exactly: it holds both quote characters \(' and "\)/],
      [{ M3U_PROXY_TOKEN: '"quoted"' }, /M3U_PROXY_TOKEN .*: it starts or ends with a quote character \("\)/],
      [{ M3U_PROXY_TOKEN: 'two\nlines' }, /M3U_PROXY_TOKEN .*: it holds a control character \(U\+000A\)/],
      [{ M3U_PROXY_TOKEN: 'x ;y' }, /M3U_PROXY_TOKEN .*: it holds ";" after a space/],
      [{ M3U_PROXY_TOKEN: 'x #y' }, /M3U_PROXY_TOKEN .*: it holds "#" after a space/],
      [{ HLS_TEMP_DIR: '/data/it\'s "x" here' }, /HLS_TEMP_DIR cannot be passed .*both quote characters/],
    ];
    for (const [env, message] of cases) {
      const r = cli(['render-config'], { cwd: dir, env: { SUPERVISORD_TEMPLATE: TEMPLATE, SUPERVISORD_CONF: out, ...env } });
      assert.equal(r.code, 78, r.stderr);
      assert.match(r.stderr, message);
      assert.ok(!existsSync(out));
    }
  });

  test('in the startup, a value or a template supervisord would refuse stops it before any step touches anything', (t) => {
    const dir = tempDir(t);
    const hls = join(dir, 'hls');
    for (const env of [{ M3U_PROXY_TOKEN: 'a\'b"c' }, { SUPERVISORD_TEMPLATE: join(dir, 'missing.tmpl') }]) {
      for (const command of [['prepare'], ['run', '--', 'true']]) {
        const r = cli(command, { cwd: dir, env: { HLS_TEMP_DIR: hls, SUPERVISORD_TEMPLATE: TEMPLATE, SUPERVISORD_CONF: join(dir, 'out.conf'), ...env } });
        assert.equal(r.code, 78, r.stderr);
        assert.equal(r.stdout, '');
        assert.ok(!existsSync(hls) && !existsSync(join(dir, 'out.conf')));
      }
    }
  });

  test('a %(ENV_X)s reference to an unset variable: 78 listing each, before supervisord would ever see it', (t) => {
    const dir = tempDir(t);
    const template = writeText(join(dir, 't.conf'), readFileSync(TEMPLATE, 'utf8').replace('priority=7', 'priority=7\ndirectory=%(ENV_APP_DIR)s\nstderr_logfile=%(ENV_LOG_DIR)s/x.log'));
    const r = cli(['render-config', '--check'], { cwd: dir, env: { SUPERVISORD_TEMPLATE: template } });
    assert.equal(r.code, 78);
    assert.equal(r.stderr, 'hls-bootstrap: the supervisord config refers to %(ENV_APP_DIR)s, but APP_DIR is not set in the environment supervisord starts with\n'
      + 'hls-bootstrap: the supervisord config refers to %(ENV_LOG_DIR)s, but LOG_DIR is not set in the environment supervisord starts with\n');
    assert.equal(cli(['render-config', '--check'], { cwd: dir, env: { SUPERVISORD_TEMPLATE: template, APP_DIR: '/x', LOG_DIR: '/tmp' } }).code, 0);
  });

  test('--check passes the shipped template, starting the real supervisord on it', (t) => {
    if (!needsProgram(t, 'supervisord')) return;
    const r = cli(['render-config', '--check'], { env: { SUPERVISORD_TEMPLATE: TEMPLATE } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✅ environment= reads back exactly in supervisord 4\.2 \(non-POSIX shlex\) and POSIX shlex: the 15 variables set\n/);
    assert.match(r.stdout, /✅ every %\(ENV_X\)s reference is set: SUPERVISOR_PHP_USER, M3U_PROXY_START_EMBEDDED/);
    assert.match(r.stdout, /✅ \S*supervisord loaded it and started/);
  });

  test('--check fails with 78 when supervisord refuses the file', (t) => {
    if (!needsProgram(t, 'supervisord')) return;
    const r = cli(['render-config', '--check'], { env: { SUPERVISORD_TEMPLATE: TEMPLATE, SUPERVISOR_PHP_USER: 'no-such-user-here' } });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /supervisord refused the config \(exit 2\): Error: Invalid user name no-such-user-here in section 'program:m3u-proxy'/);
  });

  test('a missing template is 78, an unwritable destination 73', (t) => {
    const dir = tempDir(t);
    const missing = cli(['render-config'], { cwd: dir, env: { SUPERVISORD_TEMPLATE: join(dir, 'nope.tmpl') } });
    assert.equal(missing.code, 78);
    assert.match(missing.stderr, /cannot read the supervisord template .*nope\.tmpl \(SUPERVISORD_TEMPLATE\): no such file or directory/);
    const nowhere = cli(['render-config'], { cwd: dir, env: { SUPERVISORD_TEMPLATE: TEMPLATE, SUPERVISORD_CONF: join(dir, 'no', 'dir', 'x.conf') } });
    assert.equal(nowhere.code, 73);
    assert.match(nowhere.stderr, /^hls-bootstrap: cannot write the supervisord config \(SUPERVISORD_CONF\) .*x\.conf: no such file or directory \(ENOENT\)\n$/);
  });

  test('as a user who cannot write the destination directory: 73 and one line', (t) => {
    if (!needsRoot(t)) return;
    const dir = tempDir(t);
    mkdirSync(join(dir, 'etc'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'etc', 'keep'), '');
    const r = cli(['render-config'], { cwd: dir, env: { SUPERVISORD_TEMPLATE: TEMPLATE, SUPERVISORD_CONF: join(dir, 'etc', 'x.conf') }, setpriv: ['--reuid=65534', '--regid=65534', '--clear-groups'] });
    assert.equal(r.code, 73, r.stderr);
    assert.match(r.stderr, /cannot write the supervisord config \(SUPERVISORD_CONF\) .*: permission denied \(EACCES\)/);
  });
});
