// End-to-end tests of the command line and `env`: the built binary, a fresh directory, a minimal environment.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'dotenv';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { BIN, PATH, ROOT, cli, renderTo, sh, startCli, tempDir } from '../support/cli.ts';
import { variablesFor } from '../../src/1-config/docs.ts';
import { VARIABLES } from '../../src/1-config/variables.ts';
import { READS, type Reader } from '../../src/commands/reads.ts';
import { needsProgram } from '../support/require.ts';

const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

describe('help and version', () => {
  test('--help lists the commands, the global options and the exit codes', () => {
    const r = cli(['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    for (const word of ['run', 'prepare', 'check-disk', 'render-config', 'sweep', 'env', '--env-file', '--dry-run', '--json', '--quiet', '--version']) {
      assert.ok(r.stdout.includes(word), word);
    }
    assert.match(r.stdout, /78 +invalid configuration/);
    assert.match(r.stdout, /127 +command not found/);
  });

  test("each command's --help lists the variables it uses, with their meanings and defaults", () => {
    // Wrapped at 80 columns: compare with the line breaks taken out.
    const flat = (args: string[]): string => cli(args).stdout.replace(/\s+/g, ' ');
    const disk = flat(['check-disk', '--help']);
    assert.match(disk, /HLS_DISK_WARN_MB free space below which the disk step warns \(default: 2048\)/);
    assert.match(disk, /HLS_TEMP_DIR where FFmpeg writes live HLS segments \(default: \/var\/www\/html\/storage\/app\/hls-segments\)/);
    assert.match(disk, /It checks every other variable too; an invalid one makes it UNKNOWN: .*M3U_PROXY_PORT/);
    const render = flat(['render-config', '--help']);
    assert.match(render, /M3U_PROXY_PORT port the proxy listens on \(default: 8085\)/);
    assert.match(render, /an invalid one stops it with exit 78: .*HLS_DISK_WARN_MB/);
    assert.match(flat(['sweep', '--help']), /HLS_GC_AGE_THRESHOLD age in seconds after which/);
  });

  /** The variable names of each part of a command's help: those it uses, and the others it checks. */
  function helpVariables(text: string): { uses: string[]; checks: string[] } {
    const [, uses = '', checks = ''] = /\nVariables it uses[^\n]*\n([\s\S]*?)(?:\n\nIt checks every other variable[^\n]*\n([\s\S]*))?$/.exec(text) ?? [];
    return {
      uses: [...uses.matchAll(/^ {2}([A-Z0-9_]+)(?: |$)/gm)].map((m) => m[1] ?? ''),
      checks: checks.split(/[\s,]+/).filter(Boolean),
    };
  }

  for (const command of Object.keys(READS) as Reader[]) {
    test(`${command}: its help lists exactly the variables the table tags for it, and every other one as checked`, () => {
      const text = cli([command, '--help']).stdout;
      const expected = variablesFor(READS[command]).map((v) => v.name);
      const { uses, checks } = helpVariables(text);
      assert.deepEqual(uses, expected);
      assert.deepEqual(checks, VARIABLES.map((v) => v.name).filter((name) => !expected.includes(name)));
      assert.equal(cli(['help', command]).stdout, text, 'help COMMAND is COMMAND --help');
    });
  }

  test('on a narrow terminal each option goes above its text, and every command\'s help fits', (t) => {
    if (!needsProgram(t, 'script')) return;
    for (const width of [50, 60]) {
      for (const command of ['run', 'prepare', 'check-disk', 'render-config', 'sweep', 'env', 'help']) {
        // A terminal of that width: script(1) gives the command a pseudo-terminal, stty its columns.
        const r = spawnSync('script', ['-qc', `stty cols ${width}; "${BIN}" ${command} --help`, '/dev/null'], { env: { PATH, HOME: tempDir(t) }, encoding: 'utf8' });
        const lines = r.stdout.replaceAll('\r', '').split('\n');
        assert.ok(lines.some((line) => line.startsWith('  --env-file') || command === 'help'), `${command}: ${r.stdout}`);
        for (const line of lines) assert.ok(line.length <= width, `${command} at ${width}: ${line.length} columns: ${line}`);
      }
    }
  });

  test('every help text reads whole at 80 columns: no line longer, no sentence cut by a hard line break', () => {
    for (const args of [['--help'], ...[...Object.keys(READS), 'help'].map((c) => [c, '--help'])]) {
      const r = cli(args);
      assert.equal(r.code, 0, r.stderr);
      for (const line of r.stdout.split('\n')) assert.ok(line.length <= 80, `${args.join(' ')}: ${line.length} columns: ${line}`);
      // A description paragraph ends with a full stop; a line that ends mid-sentence is followed by one that goes on with it.
      const description = r.stdout.split('\n\n')[1] ?? '';
      assert.match(description, /\.$/, `${args.join(' ')}: ${description}`);
    }
  });

  test('help and help COMMAND; a mistyped name after help gets a suggestion or the list of commands', () => {
    const root = cli(['help']);
    assert.equal(root.code, 0, root.stderr);
    assert.equal(root.stdout, cli(['--help']).stdout);
    assert.match(root.stdout, /^ {2}help \[command\] +show help/m);
    const typo = cli(['help', 'chek-disk']);
    assert.equal(typo.code, 2);
    assert.equal(typo.stdout, '');
    assert.match(typo.stderr, /^error: unknown command 'chek-disk'; did you mean check-disk\?\n/);
    assert.match(cli(['help', 'bash']).stderr, /^error: unknown command 'bash'; the commands are run, prepare, check-disk, render-config, sweep, env, help\n/);
  });

  test('--version prints the package version', () => {
    const r = cli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${PKG.version}\n`);
  });
});

test("the README's commands to run the build by hand work right after the quick start, whatever node is first on PATH", (t) => {
  if (!needsProgram(t, 'npm')) return;
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /To run the build by hand[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const commands = block.split('\n').filter(Boolean);
  assert.ok(commands.length > 0 && commands.every((c) => c.includes('npx hls-bootstrap')), block);
  // The machine's PATH, without the pinned Node: npx must bring it.
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: tempDir(t) };
  for (const command of commands) {
    const r = spawnSync('sh', ['-c', command], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `${command}: ${r.stderr}`);
    assert.notEqual(r.stdout, '', command);
  }
});

test('a reader that goes away (hls-bootstrap --help | head -1) is no error', async () => {
  const child = startCli(['--help']);
  // Closed before hls-bootstrap can have started: every write it makes meets EPIPE.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 0);
  assert.equal(stderr, '');
});

test('an older Node.js gets one line and exit 78, not a stack', (t) => {
  // The machine's own Node, where it is older than the pinned one (Debian's or the CI image's).
  const old = spawnSync('/usr/bin/node', ['--version'], { encoding: 'utf8' });
  const major = Number((old.stdout || 'v0').slice(1).split('.')[0]);
  if (old.status !== 0 || major >= 22) {
    t.skip('no Node.js older than 22 at /usr/bin/node');
    return;
  }
  const r = spawnSync(BIN, ['env'], { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
  assert.equal(r.status, 78);
  assert.equal(r.stderr, `hls-bootstrap: needs Node.js 22 or later, and this is ${old.stdout.trim()}\n`);
});

test('colours come only where asked for: never into a pipe, never with NO_COLOR', (t) => {
  const dir = tempDir(t);
  const env = { HLS_TEMP_DIR: join(dir, 'hls'), ...renderTo(dir) };
  // eslint-disable-next-line no-control-regex
  const escape = /\u001b\[/;
  assert.doesNotMatch(cli(['prepare'], { cwd: dir, env }).stdout, escape);
  assert.match(cli(['prepare'], { cwd: dir, env: { ...env, FORCE_COLOR: '1' } }).stdout, escape);
  assert.doesNotMatch(cli(['prepare'], { cwd: dir, env: { ...env, FORCE_COLOR: '1', NO_COLOR: '1' } }).stdout, escape);
});

describe('usage errors exit 2', () => {
  for (const args of [['--bogus'], ['env', '--format', 'yaml'], ['nope'], ['env', 'extra']]) {
    test(args.join(' '), () => {
      const r = cli(args);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^error: /);
    });
  }

  test('an unknown word near nothing says how to exec a program', () => {
    assert.match(cli(['bash']).stderr, /^error: unknown command 'bash'; to exec a program, write: hls-bootstrap run -- bash\n/);
  });

  test('a mistyped command gets "did you mean", and no advice to exec it', () => {
    const r = cli(['chek-disk']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: unknown command 'chek-disk'; did you mean check-disk\?\n/);
    assert.doesNotMatch(r.stderr, /run --/);
  });

  test('a word near a command that is also a program on PATH gets both', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'sweeper'), '#!/bin/sh\n', { mode: 0o755 });
    const r = cli(['sweeper'], { env: { PATH: `${dir}:${PATH}` } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: unknown command 'sweeper'; did you mean sweep\? To exec the program sweeper instead, write: hls-bootstrap run -- sweeper\n/);
  });
});

describe('env', () => {
  test('shell output round-trips through sh, spaces, quotes, $, backslashes and newlines included', (t) => {
    const dir = tempDir(t);
    const token = "it's a \"token\" with $HOME, `id`, \\back\\slashes\\ and\nnew\nlines\n";
    const template = join(dir, "odd dir 'x' $y", 'supervisord.tmpl');
    const r = cli(['env', '--show-secrets'], { cwd: dir, env: { M3U_PROXY_TOKEN: token, SUPERVISORD_TEMPLATE: template } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const back = sh(`${r.stdout}\nprintf '%s\\0' "$M3U_PROXY_TOKEN" "$SUPERVISORD_TEMPLATE" "$HLS_GC_INTERVAL"`);
    assert.deepEqual(back.split('\0').slice(0, -1), [token, template, '600']);
  });

  test('every format carries the same values', (t) => {
    const dir = tempDir(t);
    const env = { M3U_PROXY_TOKEN: 'secret-1', HLS_GC_ENABLED: 'YES', M3U_PROXY_HOST: '0.0.0.0' };
    const json = JSON.parse(cli(['env', '--format', 'json', '--show-secrets'], { cwd: dir, env }).stdout) as Record<string, string>;
    const dotenv = parse(cli(['env', '--format', 'dotenv', '--show-secrets'], { cwd: dir, env }).stdout);
    const shell = JSON.parse(sh(`${cli(['env', '--show-secrets'], { cwd: dir, env }).stdout}\nnode -e 'console.log(JSON.stringify(process.env))'`)) as Record<string, string>;
    assert.equal(json.HLS_GC_ENABLED, 'true');
    assert.equal(json.M3U_PROXY_TOKEN, 'secret-1');
    assert.deepEqual(dotenv, json);
    for (const [name, value] of Object.entries(json)) assert.equal(shell[name], value, name);
    assert.deepEqual(JSON.parse(cli(['--json', 'env'], { cwd: dir, env }).stdout), { ...json, M3U_PROXY_TOKEN: null });
  });

  test('secrets are hidden unless --show-secrets, in every format', (t) => {
    const dir = tempDir(t);
    const env = { M3U_PROXY_TOKEN: 'do-not-print-me' };
    for (const format of ['shell', 'dotenv', 'json']) {
      const r = cli(['env', '--format', format], { cwd: dir, env });
      assert.equal(r.code, 0);
      assert.ok(!r.stdout.includes('do-not-print-me'), format);
      assert.match(r.stderr, /M3U_PROXY_TOKEN is hidden; pass --show-secrets/);
    }
    assert.match(cli(['env'], { cwd: dir, env }).stdout, /^# export M3U_PROXY_TOKEN=<hidden/m);
    const json = JSON.parse(cli(['env', '--format', 'json'], { cwd: dir, env }).stdout) as Record<string, unknown>;
    assert.equal(json.M3U_PROXY_TOKEN, null);
  });

  test('a good value for every variable is accepted and passed on normalised', (t) => {
    const dir = tempDir(t);
    const given: Record<string, string> = {
      HLS_TEMP_DIR: '/data//hls/', HLS_GC_ENABLED: 'Yes', HLS_GC_INTERVAL: '30', HLS_GC_AGE_THRESHOLD: '3600', HLS_STARTUP_SWEEP: 'OFF',
      WWWUSER: '0', WWWGROUP: 'root', HLS_DIR_MODE: '750', HLS_DISK_WARN_MB: '100', HLS_DISK_CRITICAL_MB: '100',
      HLS_DISK_INODES_WARN_PERCENT: '2.50%', HLS_DISK_INODES_CRITICAL_PERCENT: '2.5',
      HLS_DISK_CRITICAL_ACTION: 'FAIL', M3U_PROXY_ENABLED: '0', M3U_PROXY_START_EMBEDDED: 'on', SUPERVISOR_PHP_USER: 'root',
      M3U_PROXY_HOST: '0.0.0.0', M3U_PROXY_PORT: '65535', M3U_PROXY_LOG_LEVEL: 'warning', M3U_PROXY_TOKEN: 't',
      M3U_PROXY_REDIS_HOST: 'redis', M3U_PROXY_REDIS_PORT: '6379', M3U_PROXY_REDIS_DB: '0', M3U_REDIS_ENABLED: 'FALSE',
      M3U_ENABLE_TRANSCODING_POOLING: 'no', SUPERVISORD_TEMPLATE: 'relative.tmpl', EXEC_USER: 'root:root', SUPERVISORD_CONF: '/x/y.conf',
      NETWORK_BROADCAST_ENABLED: 'ON', HLS_BROADCAST_DIR: '/dev/shm//broadcast/', BROADCAST_GC_ENABLED: '0', HLS_BROADCAST_DISK_WARN_MB: '64',
      M3U_PROXY_INTEGRATION_ENABLED: 'Yes',
    };
    const r = cli(['env', '--format', 'json', '--show-secrets'], { cwd: dir, env: given });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      ...given, HLS_TEMP_DIR: '/data/hls', HLS_GC_ENABLED: 'true', HLS_STARTUP_SWEEP: 'false', WWWUSER: 'root', HLS_DIR_MODE: '0750',
      HLS_DISK_INODES_WARN_PERCENT: '2.5', HLS_DISK_CRITICAL_ACTION: 'fail', M3U_PROXY_ENABLED: 'false', M3U_PROXY_START_EMBEDDED: 'true', M3U_PROXY_LOG_LEVEL: 'WARNING',
      M3U_REDIS_ENABLED: 'false', M3U_ENABLE_TRANSCODING_POOLING: 'false', NETWORK_BROADCAST_ENABLED: 'true', HLS_BROADCAST_DIR: '/dev/shm/broadcast',
      BROADCAST_GC_ENABLED: 'false', M3U_PROXY_INTEGRATION_ENABLED: 'true',
    });
  });

  test('M3U_PROXY_LOG_LEVEL=warn is passed on as WARNING, the spelling the proxy\'s web server knows', (t) => {
    const dir = tempDir(t);
    for (const given of ['warn', 'WARN', 'Warning']) {
      const r = cli(['env', '--format', 'json'], { cwd: dir, env: { M3U_PROXY_LOG_LEVEL: given } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as Record<string, string>).M3U_PROXY_LOG_LEVEL, 'WARNING', given);
    }
  });

  test('a misspelt variable gets a warning naming the one meant, from the environment or a file; the default still applies', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'prod.env'), 'M3U_PROXY_PROT=9000\n');
    const r = cli(['-q', 'env', '--format', 'json', '--env-file', 'prod.env'], { cwd: dir, env: { HLS_GC_INTERVALL: '60' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'hls-bootstrap: HLS_GC_INTERVALL is not a variable hls-bootstrap reads, and is ignored; did you mean HLS_GC_INTERVAL?\n'
      + 'hls-bootstrap: M3U_PROXY_PROT (from prod.env) is not a variable hls-bootstrap reads, and is ignored; did you mean M3U_PROXY_PORT?\n');
    const values = JSON.parse(r.stdout) as Record<string, string>;
    assert.deepEqual([values.HLS_GC_INTERVAL, values.M3U_PROXY_PORT], ['600', '8085']);
    // Beside an invalid value too, so that both mistakes are seen at once.
    const both = cli(['env'], { cwd: dir, env: { HLS_GC_INTERVALL: '60', M3U_PROXY_PORT: 'x' } });
    assert.equal(both.code, 78);
    assert.match(both.stderr, /did you mean HLS_GC_INTERVAL\?\n.*M3U_PROXY_PORT="x" is not valid/s);
  });

  test('the variables of m3u-editor\'s own start script that hls-bootstrap does not read raise no warning', (t) => {
    const dir = tempDir(t);
    const upstream = {
      M3U_PROXY_INTEGRATION_ENABLED: 'true', M3U_PROXY_PUBLIC_URL: 'http://localhost/m3u-proxy', HLS_BROADCAST_DIR: '/dev/shm/broadcast',
      BROADCAST_GC_ENABLED: 'true', SUPERVISOR_PHP_COMMAND: 'php artisan serve', REDIS_HOST: 'localhost', REDIS_SERVER_PORT: '36790',
      REDIS_PASSWORD: 'x', M3U_PROXY_START_EMBEDDED: 'true',
    };
    const r = cli(['-q', 'env'], { cwd: dir, env: upstream });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  test('bytes that are not UTF-8: refused in a variable of the table and in an env file, and by run in any other variable', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'latin1.env'), Buffer.concat([Buffer.from('# prod\nLOG_DIR=/var/log/caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    // Only a shell can put such bytes in an environment: Node.js encodes every string it spawns with as UTF-8.
    const run = (assignments: string, args: string): { code: number; stderr: string } => {
      const r = spawnSync('sh', ['-c', `env ${assignments} "${BIN}" ${args}`], { cwd: dir, env: { PATH, HOME: dir }, encoding: 'utf8' });
      return { code: r.status ?? -1, stderr: r.stderr };
    };
    const variable = run(`HLS_TEMP_DIR="$(printf '/data/caf\\351')"`, 'env');
    assert.equal(variable.code, 78);
    assert.match(variable.stderr, /^hls-bootstrap: HLS_TEMP_DIR="\/data\/caf\ufffd" is not valid: it holds U\+FFFD, which is what bytes that are not UTF-8 read as/);
    const file = run('', '--env-file latin1.env env');
    assert.equal(file.code, 78);
    assert.equal(file.stderr, 'hls-bootstrap: --env-file latin1.env: line 2 is not UTF-8; save the file as UTF-8\n');
    // Any other variable is passed on only by run, which refuses it before any step: Node.js would pass on U+FFFD in its place.
    const render = Object.entries({ ...renderTo(dir), HLS_TEMP_DIR: join(dir, 'hls') }).map(([name, value]) => `${name}='${value}'`).join(' ');
    const other = run(`${render} LOG_DIR="$(printf '/var/log/caf\\351')"`, '-q run -- true');
    assert.equal(other.code, 78, other.stderr);
    assert.equal(other.stderr, 'hls-bootstrap: cannot exec true: the variable LOG_DIR holds bytes that are not UTF-8, which Node.js can pass on only as U+FFFD: the program would get it changed\n');
    assert.equal(run(`LOG_DIR="$(printf '/var/log/caf\\351')"`, '-q env').code, 0, 'env passes nothing on');
    assert.ok(!existsSync(join(dir, 'hls')), 'refused before any step');
  });

  test('a generated token is 48 hex characters and new on every start', (t) => {
    const dir = tempDir(t);
    const first = parse(cli(['env', '--format', 'dotenv', '--show-secrets'], { cwd: dir }).stdout).M3U_PROXY_TOKEN ?? '';
    const second = parse(cli(['env', '--format', 'dotenv', '--show-secrets'], { cwd: dir }).stdout).M3U_PROXY_TOKEN ?? '';
    assert.match(first, /^[0-9a-f]{48}$/);
    assert.notEqual(first, second);
  });

  test('env files merge under the real environment, earlier files over later ones', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'a.env'), 'HLS_GC_INTERVAL=31\nHLS_GC_AGE_THRESHOLD=41\nM3U_PROXY_PORT=9001\n');
    writeFileSync(join(dir, 'b.env'), 'HLS_GC_AGE_THRESHOLD=42\nM3U_PROXY_PORT=9002\nM3U_PROXY_HOST="0.0.0.0"\nHLS_GC_ENABLED=off\n');
    const r = cli(['--env-file', 'a.env', 'env', '--env-file', 'b.env', '--format', 'json'],
      { cwd: dir, env: { HLS_GC_INTERVAL: '30', HLS_GC_ENABLED: '', M3U_PROXY_PORT: '9000' } });
    assert.equal(r.code, 0, r.stderr);
    const values = JSON.parse(r.stdout) as Record<string, string>;
    assert.equal(values.HLS_GC_INTERVAL, '30');
    assert.equal(values.HLS_GC_AGE_THRESHOLD, '41');
    assert.equal(values.M3U_PROXY_PORT, '9000');
    assert.equal(values.M3U_PROXY_HOST, '0.0.0.0');
    // An empty variable counts as unset, so the file's value shows through.
    assert.equal(values.HLS_GC_ENABLED, 'false');
  });
});

describe('configuration errors exit 78, one line per problem, all at once', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['HLS_TEMP_DIR relative', { HLS_TEMP_DIR: 'segments' }, /^hls-bootstrap: HLS_TEMP_DIR="segments" is not valid: it is a relative path/],
    ['HLS_TEMP_DIR /', { HLS_TEMP_DIR: '/' }, /^hls-bootstrap: HLS_TEMP_DIR="\/" is not valid: it is the root directory/],
    ['HLS_TEMP_DIR with ..', { HLS_TEMP_DIR: '/data/../etc' }, /HLS_TEMP_DIR="\/data\/\.\.\/etc" is not valid: it has a "\.\." component/],
    ['HLS_TEMP_DIR in /etc', { HLS_TEMP_DIR: '/etc/hls' }, /HLS_TEMP_DIR="\/etc\/hls" is not valid: it lies directly in the system directory \/etc/],
    ['HLS_GC_ENABLED', { HLS_GC_ENABLED: 'maybe' }, /HLS_GC_ENABLED="maybe" is not valid: expected true\/false, 1\/0, yes\/no or on\/off/],
    ['HLS_GC_INTERVAL', { HLS_GC_INTERVAL: 'ten' }, /HLS_GC_INTERVAL="ten" is not valid: expected an integer number of seconds greater than 0/],
    ['HLS_GC_INTERVAL zero', { HLS_GC_INTERVAL: '0' }, /HLS_GC_INTERVAL="0" is not valid/],
    ['HLS_GC_AGE_THRESHOLD', { HLS_GC_AGE_THRESHOLD: '-5' }, /HLS_GC_AGE_THRESHOLD="-5" is not valid/],
    ['WWWUSER', { WWWUSER: 'no-such-user' }, /WWWUSER="no-such-user" is not valid: there is no user named "no-such-user"/],
    ['WWWGROUP', { WWWGROUP: 'no-such-group' }, /WWWGROUP="no-such-group" is not valid: there is no group named "no-such-group"/],
    ['HLS_DIR_MODE', { HLS_DIR_MODE: '0644' }, /HLS_DIR_MODE="0644" is not valid: the owner needs rwx/],
    ['HLS_DISK_WARN_MB', { HLS_DISK_WARN_MB: '2G' }, /HLS_DISK_WARN_MB="2G" is not valid: expected an integer number of MiB/],
    ['HLS_DISK_CRITICAL_MB above warn', { HLS_DISK_CRITICAL_MB: '4096' }, /HLS_DISK_CRITICAL_MB="4096" is not valid: it is above HLS_DISK_WARN_MB \(2048\)/],
    ['HLS_DISK_CRITICAL_ACTION', { HLS_DISK_CRITICAL_ACTION: 'panic' }, /HLS_DISK_CRITICAL_ACTION="panic" is not valid: expected warn/],
    ['M3U_PROXY_ENABLED', { M3U_PROXY_ENABLED: 'sure' }, /M3U_PROXY_ENABLED="sure" is not valid/],
    ['M3U_PROXY_PORT', { M3U_PROXY_PORT: '70000' }, /M3U_PROXY_PORT="70000" is not valid: expected a port number from 1 to 65535/],
    ['M3U_PROXY_HOST', { M3U_PROXY_HOST: 'a host' }, /M3U_PROXY_HOST="a host" is not valid: expected a host name or address, without spaces/],
    ['M3U_PROXY_LOG_LEVEL', { M3U_PROXY_LOG_LEVEL: 'LOUD' }, /M3U_PROXY_LOG_LEVEL="LOUD" is not valid: expected DEBUG, INFO/],
    ['M3U_PROXY_REDIS_PORT', { M3U_PROXY_REDIS_PORT: 'redis' }, /M3U_PROXY_REDIS_PORT="redis" is not valid/],
    ['M3U_PROXY_REDIS_DB', { M3U_PROXY_REDIS_DB: '1.5' }, /M3U_PROXY_REDIS_DB="1\.5" is not valid: expected an integer from 0/],
    ['M3U_REDIS_ENABLED', { M3U_REDIS_ENABLED: 'y' }, /M3U_REDIS_ENABLED="y" is not valid/],
    ['M3U_ENABLE_TRANSCODING_POOLING', { M3U_ENABLE_TRANSCODING_POOLING: 'n' }, /M3U_ENABLE_TRANSCODING_POOLING="n" is not valid/],
    ['SUPERVISORD_CONF', { SUPERVISORD_CONF: 'a\nb' }, /SUPERVISORD_CONF="a\\nb" is not valid: a path cannot hold a newline/],
    ['SUPERVISORD_TEMPLATE', { SUPERVISORD_TEMPLATE: '/x\n' }, /SUPERVISORD_TEMPLATE="\/x\\n" is not valid: a path cannot hold a newline/],
    ['HLS_STARTUP_SWEEP', { HLS_STARTUP_SWEEP: 'sometimes' }, /HLS_STARTUP_SWEEP="sometimes" is not valid: expected true\/false/],
    ['M3U_PROXY_START_EMBEDDED', { M3U_PROXY_START_EMBEDDED: 'later' }, /M3U_PROXY_START_EMBEDDED="later" is not valid/],
    ['SUPERVISOR_PHP_USER', { SUPERVISOR_PHP_USER: 'two words' }, /SUPERVISOR_PHP_USER="two words" is not valid: expected a user name or uid, without spaces/],
    ['EXEC_USER', { EXEC_USER: 'no-such-user-here' }, /EXEC_USER="no-such-user-here" is not valid: there is no user named/],
    ['M3U_PROXY_REDIS_HOST', { M3U_PROXY_REDIS_HOST: 'redis host' }, /M3U_PROXY_REDIS_HOST="redis host" is not valid/],
    ['NETWORK_BROADCAST_ENABLED', { NETWORK_BROADCAST_ENABLED: 'soon' }, /NETWORK_BROADCAST_ENABLED="soon" is not valid: expected true\/false/],
    ['HLS_BROADCAST_DIR in /usr', { HLS_BROADCAST_DIR: '/usr/broadcast' }, /HLS_BROADCAST_DIR="\/usr\/broadcast" is not valid: it lies directly in the system directory \/usr/],
    ['BROADCAST_GC_ENABLED', { BROADCAST_GC_ENABLED: 'nightly' }, /BROADCAST_GC_ENABLED="nightly" is not valid: expected true\/false/],
    ['HLS_BROADCAST_DISK_WARN_MB', { HLS_BROADCAST_DISK_WARN_MB: '256M' }, /HLS_BROADCAST_DISK_WARN_MB="256M" is not valid: expected an integer number of MiB/],
    ['M3U_PROXY_INTEGRATION_ENABLED', { M3U_PROXY_INTEGRATION_ENABLED: 'partly' }, /M3U_PROXY_INTEGRATION_ENABLED="partly" is not valid/],
  ];
  for (const [name, env, message] of cases) {
    test(name, (t) => {
      const dir = tempDir(t);
      for (const command of [['env'], ['prepare'], ['run', '--', 'true'], ['render-config']]) {
        const r = cli(command, { cwd: dir, env });
        assert.equal(r.code, 78, `${command.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, message);
      }
      // check-disk keeps the monitoring convention: UNKNOWN, exit 3, the reason in its status line,
      // where a backslash is escaped once more (the line's own escapes stay unambiguous).
      const disk = cli(['check-disk'], { cwd: dir, env });
      assert.equal(disk.code, 3, disk.stderr);
      assert.match(disk.stdout, new RegExp(`^DISK UNKNOWN - .*${message.source.replace(/^\^hls-bootstrap: /, '').replaceAll('\\\\', '\\\\\\\\')}`));
    });
  }

  test('all problems are listed together, and a missing env file is one of them', (t) => {
    const dir = tempDir(t);
    const r = cli(['env', '--env-file', 'missing.env'], { cwd: dir, env: { HLS_GC_INTERVAL: 'x', HLS_GC_AGE_THRESHOLD: 'y', M3U_PROXY_PORT: 'z' } });
    assert.equal(r.code, 78);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 4, r.stderr);
    assert.match(lines[0] ?? '', /^hls-bootstrap: --env-file missing\.env: cannot read it: no such file or directory \(ENOENT\)$/);
    assert.ok(lines.every((l) => l.startsWith('hls-bootstrap: ')));
  });

  test('an env file that never ends (/dev/zero) is refused at 16 MiB, not read until memory runs out', (t) => {
    const dir = tempDir(t);
    const r = cli(['env', '--env-file', '/dev/zero', '--env-file', 'missing.env'], { cwd: dir, timeout: 20_000 });
    assert.equal(r.signal, null, 'killed: the read did not end');
    assert.equal(r.code, 78, r.stderr);
    assert.equal(r.stderr, 'hls-bootstrap: --env-file /dev/zero: it is larger than 16 MiB, which no env file is; name the right file\n'
      + 'hls-bootstrap: --env-file missing.env: cannot read it: no such file or directory (ENOENT)\n');
  });

  test('a value from an env file names the file', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'prod.env'), 'HLS_GC_INTERVAL=soon\n');
    const r = cli(['env', '--env-file', 'prod.env'], { cwd: dir });
    assert.match(r.stderr, /HLS_GC_INTERVAL="soon" \(from prod\.env\) is not valid/);
  });
});
