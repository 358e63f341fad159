// Unit tests of the configuration model: parsers, defaults, precedence, and every problem reported at once.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BootstrapError } from '../../src/errors.ts';
import * as p from '../../src/1-config/parse.ts';
import { resolveConfig, type Layer } from '../../src/1-config/resolve.ts';
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
    const config = resolveConfig([env({ REDIS_HOST: 'redis', REDIS_SERVER_PORT: '6379', WWWUSER: 'm3ue', M3U_PROXY_ENABLED: 'no' })], ctx);
    assert.equal(config.text.M3U_PROXY_REDIS_HOST, 'redis');
    assert.equal(config.text.M3U_PROXY_REDIS_PORT, '6379');
    assert.equal(config.text.WWWGROUP, 'm3ue');
    assert.deepEqual(config.values.WWWGROUP, { id: 1001, name: 'm3ue' });
    assert.equal(config.text.SUPERVISOR_PHP_USER, 'm3ue');
    assert.equal(config.text.M3U_PROXY_START_EMBEDDED, 'false');
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
