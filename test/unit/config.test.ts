// Unit tests of the configuration model: parsers, defaults, precedence, and every problem reported at once.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BootstrapError } from '../../src/errors.ts';
import { hostWarning, notEmbedded } from '../../src/1-config/embedded.ts';
import * as p from '../../src/1-config/parse.ts';
import { readEnvFiles, resolveConfig, type Layer } from '../../src/1-config/resolve.ts';
import { parseGroup, parsePasswd, userDb } from '../../src/1-config/users.ts';
import { VARIABLES, type Context } from '../../src/1-config/variables.ts';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nm3ue:x:1000:1001:M3U:/home/m3ue:/bin/sh\nbroken line\n';
const GROUP = 'root:x:0:\nusers:x:100:m3ue\nm3ue:x:1001:\nvideo:x:44:m3ue,other\n';

const ctx: Context = {
  users: userDb(parsePasswd(PASSWD), parseGroup(GROUP)),
  euid: 0,
  egid: 0,
  randomHex: (bytes) => 'ab'.repeat(bytes),
};

const env = (values: Record<string, string | undefined>): Layer => ({ source: 'environment', values });

function problems(layers: Layer[]): string[] {
  try {
    resolveConfig(layers, ctx);
  } catch (error) {
    assert.ok(error instanceof BootstrapError);
    assert.equal(error.exitCode, 78);
    return [...error.problems];
  }
  assert.fail('expected a configuration error');
}

describe('parsers', () => {
  test('booleans in every spelling pydantic accepts', () => {
    for (const t of ['true', 'TRUE', 'True', '1', 'yes', 'YES', 'on', 'On']) assert.equal(p.bool(t), true, t);
    for (const t of ['false', 'FALSE', '0', 'no', 'No', 'off', 'OFF']) assert.equal(p.bool(t), false, t);
    for (const t of ['', 'y', 'n', '2', 'truee', 'enabled']) assert.throws(() => p.bool(t), p.Rejected, t);
  });

  test('integers: digits only, within bounds', () => {
    const seconds = p.integer(1);
    assert.equal(seconds('600'), 600);
    assert.equal(seconds('007'), 7);
    for (const t of ['0', '-1', '+5', '1.5', '1e3', ' 5', 'ten', '', '99999999999999999']) assert.throws(() => seconds(t), p.Rejected, t);
    const port = p.integer(1, 65535);
    assert.equal(port('65535'), 65535);
    assert.throws(() => port('65536'), p.Rejected);
  });

  test('octal modes need rwx for the owner', () => {
    assert.equal(p.octalMode('0755'), 0o755);
    assert.equal(p.octalMode('755'), 0o755);
    assert.equal(p.octalMode('2775'), 0o2775);
    assert.equal(p.formatMode(0o755), '0755');
    for (const t of ['0644', '0855', '75', '07555', 'rwx', '']) assert.throws(() => p.octalMode(t), p.Rejected, t);
  });

  test('octal modes: no setuid, which means nothing on a directory; not the sticky, world-writable mode of /tmp', () => {
    assert.equal(p.octalMode('1755'), 0o1755);
    assert.equal(p.octalMode('2777'), 0o2777);
    for (const t of ['4755', '6775', '07777']) assert.throws(() => p.octalMode(t), /the setuid bit \(4000\) means nothing on a directory/, t);
    for (const t of ['1777', '01757', '3777']) assert.throws(() => p.octalMode(t), /sticky and writable by others \(1777\) is the mode of a shared directory/, t);
  });

  test('HLS_TEMP_DIR: absolute, no .., not a system directory or directly in one', () => {
    const accepted: [string, string][] = [
      ['/var/www/html/storage/app/hls-segments', '/var/www/html/storage/app/hls-segments'],
      ['/data/hls/', '/data/hls'],
      ['//data//./hls', '/data/hls'],
      ['/tmp', '/tmp'],
      ['/dev/shm', '/dev/shm'],
      ['/srv/hls', '/srv/hls'],
      ['/usr/local/share/hls', '/usr/local/share/hls'],
    ];
    for (const [input, output] of accepted) assert.equal(p.hlsDirectory(input), output, input);
    const refused = ['relative/dir', './hls', '', '/', '//', '/data/../etc', '/etc', '/etc/', '/etc/hls', '/usr', '/usr/hls',
      '/var', '/var/hls', '/root', '/home', '/home/m3ue', '/proc/1', '/sys', '/dev', '/dev/hls', '/boot', '/bin', '/sbin/x',
      '/lib', '/lib64', '/lib/x', '/libexec', '/run', '/run/secrets'];
    for (const input of refused) assert.throws(() => p.hlsDirectory(input), p.Rejected, input);
  });

  test('users and groups: names from the databases, numeric ids as they are', () => {
    assert.deepEqual(p.user(ctx.users)('m3ue'), { id: 1000, name: 'm3ue' });
    assert.deepEqual(p.user(ctx.users)('0'), { id: 0, name: 'root' });
    assert.deepEqual(p.user(ctx.users)('4242'), { id: 4242, name: undefined });
    assert.throws(() => p.user(ctx.users)('nobody-here'), /no user named "nobody-here"/);
    assert.deepEqual(p.group(ctx.users)('video'), { id: 44, name: 'video' });
    assert.deepEqual(p.group(ctx.users)('33'), { id: 33, name: undefined });
    assert.throws(() => p.group(ctx.users)('nogroup-here'), /no group named "nogroup-here"/);
    assert.deepEqual(ctx.users.groupsOf('m3ue'), [100, 44]);
  });
});

describe('resolveConfig', () => {
  test('defaults fill every unset or empty variable, as the old start script did', () => {
    const config = resolveConfig([env({ HLS_GC_INTERVAL: '' })], ctx);
    assert.equal(config.text.HLS_TEMP_DIR, '/var/www/html/storage/app/hls-segments');
    assert.equal(config.text.HLS_GC_ENABLED, 'true');
    assert.equal(config.text.HLS_GC_INTERVAL, '600');
    assert.equal(config.source.HLS_GC_INTERVAL, 'default');
    assert.equal(config.text.HLS_GC_AGE_THRESHOLD, '7200');
    assert.equal(config.text.WWWUSER, 'root');
    assert.equal(config.text.WWWGROUP, 'root');
    assert.equal(config.text.M3U_PROXY_REDIS_HOST, 'localhost');
    assert.equal(config.text.M3U_PROXY_REDIS_PORT, '36790');
    assert.equal(config.text.M3U_PROXY_TOKEN, 'ab'.repeat(24));
    assert.equal(config.source.M3U_PROXY_TOKEN, 'generated');
    assert.equal(config.values.HLS_DIR_MODE, 0o755);
  });

  test('every table variable has a valid default', () => {
    const config = resolveConfig([env({})], ctx);
    assert.deepEqual(Object.keys(config.text), VARIABLES.map((v) => v.name));
  });

  test('values are normalised as they are passed on', () => {
    const config = resolveConfig([env({ HLS_GC_ENABLED: 'ON', M3U_REDIS_ENABLED: '0', HLS_DIR_MODE: '750', M3U_PROXY_LOG_LEVEL: 'debug' })], ctx);
    assert.equal(config.text.HLS_GC_ENABLED, 'true');
    assert.equal(config.values.M3U_REDIS_ENABLED, false);
    assert.equal(config.env.M3U_REDIS_ENABLED, 'false');
    assert.equal(config.text.HLS_DIR_MODE, '0750');
    assert.equal(config.text.M3U_PROXY_LOG_LEVEL, 'DEBUG');
  });

  test('derived defaults follow the variables they come from', () => {
    const config = resolveConfig([env({ REDIS_HOST: 'redis', REDIS_SERVER_PORT: '6379', WWWUSER: 'm3ue', M3U_PROXY_ENABLED: 'no', HLS_TEMP_DIR: '/data/hls/' })], ctx);
    assert.equal(config.text.M3U_PROXY_REDIS_HOST, 'redis');
    assert.equal(config.text.M3U_PROXY_REDIS_PORT, '6379');
    assert.equal(config.text.WWWGROUP, 'm3ue');
    assert.deepEqual(config.values.WWWGROUP, { id: 1001, name: 'm3ue' });
    assert.equal(config.text.M3U_PROXY_START_EMBEDDED, 'false');
    assert.equal(config.text.HLS_BROADCAST_DIR, '/data/hls', 'HLS_BROADCAST_DIR defaults to HLS_TEMP_DIR, normalised alike');
    assert.equal(config.source.HLS_BROADCAST_DIR, 'default');
  });

  test('upstream\'s defaults: broadcasts off, their directory HLS_TEMP_DIR, their GC on, a 256 MiB warning, integration on', () => {
    const config = resolveConfig([env({})], ctx);
    assert.equal(config.text.NETWORK_BROADCAST_ENABLED, 'false');
    assert.equal(config.text.HLS_BROADCAST_DIR, '/var/www/html/storage/app/hls-segments');
    assert.equal(config.text.BROADCAST_GC_ENABLED, 'true');
    assert.equal(config.values.HLS_BROADCAST_DISK_WARN_MB, 256);
    assert.equal(config.text.M3U_PROXY_INTEGRATION_ENABLED, 'true');
    assert.equal(config.text.M3U_PROXY_START_EMBEDDED, 'true');
  });

  test('SUPERVISOR_PHP_USER: root when started as root, as upstream forces it; the current user otherwise', () => {
    assert.equal(resolveConfig([env({ WWWUSER: 'm3ue' })], ctx).text.SUPERVISOR_PHP_USER, 'root');
    assert.equal(resolveConfig([env({ WWWUSER: 'm3ue' })], { ...ctx, euid: 1000, egid: 1001 }).text.SUPERVISOR_PHP_USER, 'm3ue');
    assert.equal(resolveConfig([env({})], { ...ctx, euid: 4242, egid: 4242 }).text.SUPERVISOR_PHP_USER, '4242');
    assert.equal(resolveConfig([env({ SUPERVISOR_PHP_USER: 'm3ue' })], ctx).text.SUPERVISOR_PHP_USER, 'm3ue');
  });

  test('M3U_PROXY_START_EMBEDDED defaults to embedded mode: M3U_PROXY_INTEGRATION_ENABLED and M3U_PROXY_ENABLED both true', () => {
    const cases: [Record<string, string>, string][] = [
      [{}, 'true'],
      [{ M3U_PROXY_INTEGRATION_ENABLED: 'yes', M3U_PROXY_ENABLED: 'ON' }, 'true'],
      [{ M3U_PROXY_INTEGRATION_ENABLED: 'false' }, 'false'],
      [{ M3U_PROXY_ENABLED: '0' }, 'false'],
      [{ M3U_PROXY_INTEGRATION_ENABLED: 'off', M3U_PROXY_ENABLED: 'no' }, 'false'],
      [{ M3U_PROXY_ENABLED: 'false', M3U_PROXY_START_EMBEDDED: 'true' }, 'true'],
    ];
    for (const [values, expected] of cases) assert.equal(resolveConfig([env(values)], ctx).text.M3U_PROXY_START_EMBEDDED, expected, JSON.stringify(values));
  });

  test('HLS_BROADCAST_DIR is refused as HLS_TEMP_DIR is; an invalid HLS_TEMP_DIR is reported once, not again as its default', () => {
    assert.match(problems([env({ HLS_BROADCAST_DIR: '/etc/hls' })])[0] ?? '', /^HLS_BROADCAST_DIR="\/etc\/hls" is not valid: it lies directly in the system directory \/etc/);
    assert.deepEqual(problems([env({ HLS_TEMP_DIR: 'relative' })]).map((l) => l.split('=')[0]), ['HLS_TEMP_DIR']);
    assert.equal(resolveConfig([env({ HLS_BROADCAST_DIR: '/dev/shm/broadcast' })], ctx).text.HLS_BROADCAST_DIR, '/dev/shm/broadcast');
  });

  test('layers: the environment wins over env files, earlier files over later ones, empty counts as unset', () => {
    const layers: Layer[] = [
      env({ HLS_GC_INTERVAL: '30', HLS_GC_AGE_THRESHOLD: '', ONLY_ENV: 'e', EMPTY_EVERYWHERE: '' }),
      { source: 'a.env', values: { HLS_GC_INTERVAL: '31', HLS_GC_AGE_THRESHOLD: '41', M3U_PROXY_PORT: '9001', ONLY_A: 'a' } },
      { source: 'b.env', values: { HLS_GC_AGE_THRESHOLD: '42', M3U_PROXY_PORT: '9002', M3U_PROXY_HOST: '0.0.0.0', EMPTY_EVERYWHERE: '' } },
    ];
    const config = resolveConfig(layers, ctx);
    assert.equal(config.text.HLS_GC_INTERVAL, '30');
    assert.equal(config.source.HLS_GC_INTERVAL, 'environment');
    assert.equal(config.text.HLS_GC_AGE_THRESHOLD, '41');
    assert.equal(config.source.HLS_GC_AGE_THRESHOLD, 'a.env');
    assert.equal(config.text.M3U_PROXY_PORT, '9001');
    assert.equal(config.text.M3U_PROXY_HOST, '0.0.0.0');
    assert.equal(config.source.M3U_PROXY_HOST, 'b.env');
    assert.equal(config.env.ONLY_ENV, 'e');
    assert.equal(config.env.ONLY_A, 'a');
    assert.equal(config.env.EMPTY_EVERYWHERE, '');
  });

  test('every problem is reported at once, naming the variable, the value and what is accepted', () => {
    const found = problems([
      env({ HLS_GC_INTERVAL: 'ten', HLS_TEMP_DIR: 'relative', WWWUSER: 'ghost', M3U_PROXY_PORT: '0', M3U_PROXY_TOKEN: '' }),
      { source: 'prod.env', values: { HLS_GC_ENABLED: 'maybe' } },
    ]);
    assert.equal(found.length, 5);
    assert.match(found.find((l) => l.startsWith('HLS_TEMP_DIR')) ?? '', /^HLS_TEMP_DIR="relative" is not valid: it is a relative path/);
    assert.match(found.find((l) => l.startsWith('HLS_GC_ENABLED')) ?? '', /^HLS_GC_ENABLED="maybe" \(from prod\.env\) is not valid: expected true\/false/);
    assert.match(found.find((l) => l.startsWith('HLS_GC_INTERVAL')) ?? '', /^HLS_GC_INTERVAL="ten" is not valid: expected an integer number of seconds greater than 0$/);
    assert.match(found.find((l) => l.startsWith('WWWUSER')) ?? '', /^WWWUSER="ghost" is not valid: there is no user named "ghost"/);
    assert.match(found.find((l) => l.startsWith('M3U_PROXY_PORT')) ?? '', /^M3U_PROXY_PORT="0" is not valid: expected a port number from 1 to 65535$/);
  });

  test('a value taken from the variable a default follows is reported under both names', () => {
    assert.deepEqual(problems([env({ REDIS_SERVER_PORT: 'abc' }), { source: 'prod.env', values: { REDIS_HOST: 'my redis' } }]), [
      'M3U_PROXY_REDIS_HOST="my redis" (taken from REDIS_HOST, as M3U_PROXY_REDIS_HOST is unset, from prod.env) is not valid: expected a host name or address, without spaces',
      'M3U_PROXY_REDIS_PORT="abc" (taken from REDIS_SERVER_PORT, as M3U_PROXY_REDIS_PORT is unset) is not valid: expected a port number from 1 to 65535',
    ]);
    const config = resolveConfig([env({ REDIS_SERVER_PORT: 'abc', M3U_PROXY_REDIS_PORT: '6380', REDIS_HOST: '' })], ctx);
    assert.equal(config.text.M3U_PROXY_REDIS_PORT, '6380', 'a value of its own wins, whatever the other holds');
    assert.equal(config.text.M3U_PROXY_REDIS_HOST, 'localhost');
    assert.equal(resolveConfig([env({ REDIS_SERVER_PORT: '6379' })], ctx).source.M3U_PROXY_REDIS_PORT, 'REDIS_SERVER_PORT (environment)');
  });

  test('a value holding U+FFFD, what bytes that are not UTF-8 read as, is refused: its bytes could not be passed on', () => {
    const found = problems([env({ HLS_TEMP_DIR: '/data/caf\ufffd', M3U_PROXY_TOKEN: 't\ufffdk', REDIS_HOST: 'r\ufffd' })]);
    assert.deepEqual(found.map((l) => l.replace(/ is not valid.*/, '')), ['HLS_TEMP_DIR="/data/caf\ufffd"', 'M3U_PROXY_TOKEN(value hidden)',
      'M3U_PROXY_REDIS_HOST="r\ufffd" (taken from REDIS_HOST, as M3U_PROXY_REDIS_HOST is unset)']);
    assert.match(found[0] ?? '', /is not valid: it holds U\+FFFD, which is what bytes that are not UTF-8 read as/);
  });

  test('an env file that is not UTF-8 is refused, naming its first such line', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'hls-bootstrap-test-'));
    t.after(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    writeFileSync(join(dir, 'latin1.env'), Buffer.concat([Buffer.from('HLS_GC_INTERVAL=60\nLOG_DIR=/var/log/caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    writeFileSync(join(dir, 'utf8.env'), '\ufeffHLS_GC_INTERVAL=61\r\nLOG_DIR=/var/log/café\r\n');
    const read = await readEnvFiles([join(dir, 'latin1.env'), join(dir, 'utf8.env')]);
    assert.deepEqual(read.problems, [`--env-file ${join(dir, 'latin1.env')}: line 2 is not UTF-8; save the file as UTF-8`]);
    assert.deepEqual(read.layers.map((l) => l.values), [{ HLS_GC_INTERVAL: '61', LOG_DIR: '/var/log/café' }]);
  });

  test('HLS_DISK_CRITICAL_MB may not be above HLS_DISK_WARN_MB', () => {
    const [problem] = problems([env({ HLS_DISK_WARN_MB: '100', HLS_DISK_CRITICAL_MB: '200' })]);
    assert.match(problem ?? '', /^HLS_DISK_CRITICAL_MB="200" is not valid: it is above HLS_DISK_WARN_MB \(100\)/);
    assert.equal(resolveConfig([env({ HLS_DISK_WARN_MB: '100', HLS_DISK_CRITICAL_MB: '100' })], ctx).values.HLS_DISK_CRITICAL_MB, 100);
  });

  test('earlier problems, such as an unreadable env file, are reported with the rest', () => {
    try {
      resolveConfig([env({ HLS_GC_INTERVAL: 'x' })], ctx, ['--env-file missing.env: cannot read it']);
      assert.fail('expected a configuration error');
    } catch (error) {
      assert.ok(error instanceof BootstrapError);
      assert.equal(error.problems.length, 2);
      assert.equal(error.problems[0], '--env-file missing.env: cannot read it');
    }
  });
});

describe('embedded mode', () => {
  const mode = (values: Record<string, string>) => resolveConfig([env(values)], ctx).values;

  test('needs M3U_PROXY_INTEGRATION_ENABLED and M3U_PROXY_ENABLED; either false says why', () => {
    assert.equal(notEmbedded(mode({})), undefined);
    assert.equal(notEmbedded(mode({ M3U_PROXY_ENABLED: 'no' })), 'M3U_PROXY_ENABLED=false');
    assert.equal(notEmbedded(mode({ M3U_PROXY_INTEGRATION_ENABLED: 'OFF' })), 'M3U_PROXY_INTEGRATION_ENABLED=false');
    assert.equal(notEmbedded(mode({ M3U_PROXY_INTEGRATION_ENABLED: '0', M3U_PROXY_ENABLED: '0' })), 'M3U_PROXY_ENABLED=false');
  });

  test('warns, in upstream\'s words, when the embedded proxy listens beyond localhost or 127.0.0.1', () => {
    for (const host of ['localhost', '127.0.0.1']) assert.deepEqual(hostWarning(mode({ M3U_PROXY_HOST: host })), [], host);
    assert.deepEqual(hostWarning(mode({ M3U_PROXY_HOST: '0.0.0.0' })), [
      '⚠️  WARNING: Embedded mode enabled but M3U_PROXY_HOST is not localhost',
      '    Current value: 0.0.0.0',
      "    For AIO/embedded mode, M3U_PROXY_HOST should be 'localhost' or '127.0.0.1'",
    ]);
    assert.deepEqual(hostWarning(mode({ M3U_PROXY_HOST: 'm3u-proxy', M3U_PROXY_ENABLED: 'false' })), [], 'an external proxy may be anywhere');
    assert.deepEqual(hostWarning(mode({ M3U_PROXY_HOST: 'm3u-proxy', M3U_PROXY_INTEGRATION_ENABLED: 'false' })), []);
  });
});
