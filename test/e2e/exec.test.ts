// The exec step with real processes: the same PID, real users, real signals, and the real supervisord.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { NODE, ROOT, cli, renderTo, startCli, tempDir } from '../support/cli.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { STAND_IN, type StandInReport } from '../support/supervisord.ts';
import { ensureGroup, ensureUser } from '../support/system.ts';

/** The environment of a `run` in `dir`: an empty HLS directory and the shipped template rendered there. */
function runEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HLS_TEMP_DIR: join(dir, 'hls'), ...renderTo(dir), ...extra };
}

function standIn(dir: string): { argv: string[]; report: () => StandInReport } {
  const out = join(dir, 'report.json');
  return { argv: [NODE, STAND_IN, '--out', out], report: () => JSON.parse(readFileSync(out, 'utf8')) as StandInReport };
}

async function exitOf(child: ReturnType<typeof startCli>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

describe('exec', () => {
  test('the program takes over the process: the PID it reports is the PID hls-bootstrap was started with', async (t) => {
    const dir = tempDir(t);
    const child = startCli(['-q', 'run', '--', 'sh', '-c', 'echo $$'], { cwd: dir, env: runEnv(dir) });
    const { code, stdout, stderr } = await exitOf(child);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), String(child.pid));
  });

  test('as Docker passes a CMD after ENTRYPOINT ["hls-bootstrap", "run"]: options after the command are the command\'s', (t) => {
    const dir = tempDir(t);
    const r = cli(['-q', 'run', 'sh', '-c', 'echo "$0 $1"', 'zero', '--user'], { cwd: dir, env: runEnv(dir) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'zero --user\n');
  });

  test('the program gets the resolved environment: defaults, normalised values, the token, env-file variables', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'extra.env'), 'FROM_FILE=yes\nHLS_GC_INTERVAL=45\n');
    const program = standIn(dir);
    const r = cli(['-q', 'run', '--env-file', 'extra.env', '--', ...program.argv], { cwd: dir, env: runEnv(dir, { HLS_GC_ENABLED: 'Off', KEPT: 'as is' }) });
    assert.equal(r.code, 0, r.stderr);
    const { env } = program.report();
    assert.equal(env.FROM_FILE, 'yes');
    assert.equal(env.HLS_GC_INTERVAL, '45');
    assert.equal(env.HLS_GC_ENABLED, 'false');
    assert.equal(env.HLS_GC_AGE_THRESHOLD, '7200');
    assert.equal(env.KEPT, 'as is');
    assert.match(env.M3U_PROXY_TOKEN ?? '', /^[0-9a-f]{48}$/);
  });

  test('a missing command is 127 and a non-executable one 126, each with one line and no native stack', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'not-executable'), '#!/bin/sh\n');
    writeFileSync(join(dir, 'bad-interpreter'), '#!/no/such/shell\necho hi\n');
    writeFileSync(join(dir, 'not-a-program'), 'just text\n');
    chmodSync(join(dir, 'bad-interpreter'), 0o755);
    chmodSync(join(dir, 'not-a-program'), 0o755);
    const cases: [string[], number, RegExp][] = [
      [['no-such-command-anywhere'], 127, /^hls-bootstrap: no-such-command-anywhere: command not found on PATH\n$/],
      [['./missing-here'], 127, /^hls-bootstrap: \.\/missing-here: command not found\n$/],
      [['./not-executable'], 126, /^hls-bootstrap: \.\/not-executable: cannot execute .*\/not-executable: permission denied\n$/],
      [['./bad-interpreter'], 126, /^hls-bootstrap: \.\/bad-interpreter: cannot execute .*: its interpreter \/no\/such\/shell does not exist or cannot be executed\n$/],
      [['./not-a-program'], 126, /^hls-bootstrap: \.\/not-a-program: cannot execute .*: it is neither a binary nor a script with a #! line\n$/],
      [[dir], 126, /cannot execute .*: permission denied\n$/],
    ];
    for (const [command, code, message] of cases) {
      const r = cli(['-q', 'run', '--', ...command], { cwd: dir, env: runEnv(dir) });
      assert.equal(r.code, code, `${command.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /Native stack trace|Aborted|core dumped/);
    }
    assert.ok(!existsSync(join(dir, 'hls')), 'the command is checked before any step touches anything');
  });

  test('--dry-run prints the argv, the user and the environment keys, and execs nothing', (t) => {
    const dir = tempDir(t);
    const r = cli(['run', '--dry-run', '--', 'sh', '-c', 'touch ran'], { cwd: dir, env: runEnv(dir) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[dry run\] would exec \/\S+\/sh: sh -c 'touch ran'\n/);
    assert.match(r.stdout, /\[dry run\] would run it as the current user \(uid \d+\)\n/);
    assert.match(r.stdout, /\[dry run\] would pass \d+ environment variables: .*HLS_TEMP_DIR .*M3U_PROXY_TOKEN .*PATH/);
    assert.ok(!existsSync(join(dir, 'ran')));
    const supervisord = cli(['run', '--dry-run'], { cwd: dir, env: runEnv(dir) });
    assert.match(supervisord.stdout, new RegExp(`would exec \\S*supervisord: supervisord -c ${join(dir, 'supervisord.conf')}\\n`));
  });
});

describe('--user and EXEC_USER', () => {
  const report = (t: TestContext, args: string[], env: Record<string, string> = {}): StandInReport => {
    const dir = tempDir(t);
    // The program, running as another user, writes its report here.
    chmodSync(dir, 0o777);
    const program = standIn(dir);
    const r = cli(['-q', 'run', ...args, '--', ...program.argv], { cwd: dir, env: runEnv(dir, env) });
    assert.equal(r.code, 0, r.stderr);
    return program.report();
  };

  test('a named user: its uid, primary gid, supplementary groups and HOME, as su-exec sets them', (t) => {
    if (!needsRoot(t)) return;
    // A user of its own: users are kept between tests and runs, and another test may add a shared one to its groups.
    const user = ensureUser('hlsb-exec');
    const media = ensureGroup('hlsb-media', [user.name]);
    for (const [args, env] of [[['--user', user.name], {}], [[], { EXEC_USER: user.name }]] as const) {
      const r = report(t, [...args], env);
      assert.deepEqual([r.uid, r.gid, [...r.groups].sort((a, b) => a - b)], [user.uid, user.gid, [user.gid, media].sort((a, b) => a - b)]);
      assert.equal(r.home, '/home/hlsb-exec');
    }
  });

  test('USER:GROUP and numeric ids without a database entry', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const media = ensureGroup('hlsb-media', [user.name]);
    const named = report(t, ['--user', `${user.name}:hlsb-media`]);
    assert.deepEqual([named.uid, named.gid, named.groups], [user.uid, media, [media]]);
    const numeric = report(t, ['--user', '4242:4343']);
    assert.deepEqual([numeric.uid, numeric.gid, numeric.groups, numeric.home], [4242, 4343, [4343], '/']);
  });

  test('asking for a user when not root is a clear error, not a silent no-op', (t) => {
    if (!needsRoot(t)) return;
    const runner = ensureUser('hlsb-runner');
    const dir = tempDir(t);
    chmodSync(dir, 0o777);
    const r = cli(['run', '--user', 'root', '--', 'true'], { cwd: dir, env: runEnv(dir), setpriv: [`--reuid=${runner.uid}`, `--regid=${runner.gid}`, '--clear-groups'] });
    assert.equal(r.code, 78);
    assert.equal(r.stderr, `hls-bootstrap: switching to user root (--user or EXEC_USER) needs root, and hls-bootstrap runs as uid ${runner.uid}\n`);
    assert.ok(!existsSync(join(dir, 'hls')));
  });

  test('an unknown user is refused before anything is touched', (t) => {
    const dir = tempDir(t);
    const flag = cli(['run', '--user', 'no-such-user', '--', 'true'], { cwd: dir, env: runEnv(dir) });
    assert.equal(flag.code, 78);
    assert.match(flag.stderr, /--user "no-such-user" is not valid: there is no user named "no-such-user"/);
    const variable = cli(['run', '--', 'true'], { cwd: dir, env: runEnv(dir, { EXEC_USER: 'root:no-such-group' }) });
    assert.equal(variable.code, 78);
    assert.match(variable.stderr, /EXEC_USER="root:no-such-group" is not valid: there is no group named "no-such-group"/);
    assert.ok(!existsSync(join(dir, 'hls')));
  });
});

describe('--supervise', () => {
  test('a child that traps SIGTERM and exits 7 makes hls-bootstrap exit 7 after SIGTERM is sent to it', async (t) => {
    const dir = tempDir(t);
    const child = startCli(['-q', 'run', '--supervise', '--', 'sh', '-c', 'trap "exit 7" TERM; echo ready; while :; do sleep 0.05; done'], { cwd: dir, env: runEnv(dir) });
    const result = exitOf(child);
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    }));
    child.kill('SIGTERM');
    assert.equal((await result).code, 7);
  });

  test('a child killed by SIGKILL gives 137; a child\'s own status 3 gives 3', async (t) => {
    const dir = tempDir(t);
    assert.equal(cli(['-q', 'run', '--supervise', '--', 'sh', '-c', 'kill -KILL $$'], { cwd: dir, env: runEnv(dir) }).code, 137);
    assert.equal(cli(['-q', 'run', '--supervise', '--', 'sh', '-c', 'exit 3'], { cwd: dir, env: runEnv(dir) }).code, 3);
    const usr1 = startCli(['-q', 'run', '--supervise', '--', 'sh', '-c', 'trap "exit 11" USR1; echo ready; while :; do sleep 0.05; done'], { cwd: dir, env: runEnv(dir) });
    const result = exitOf(usr1);
    await new Promise<void>((resolve) => usr1.stdout.on('data', () => {
      resolve();
    }));
    usr1.kill('SIGUSR1');
    assert.equal((await result).code, 11);
  });
});

test('the whole chain: run renders the shipped template and execs supervisord, whose m3u-proxy gets the expected environment', async (t) => {
  if (!needsProgram(t, 'supervisord')) return;
  const dir = tempDir(t);
  const program = standIn(dir);
  // The shipped template, with the proxy replaced by the stand-in and supervisord's own files kept in dir.
  // Its log goes to a file: Node gives a child sockets, not pipes, for stdout, and opening
  // /dev/stdout on a socket fails with ENXIO (Docker's stdout is a pipe).
  const template = readFileSync(join(ROOT, 'docker', 'supervisord.conf'), 'utf8')
    .replace('stdout_logfile=/dev/stdout', `stdout_logfile=${join(dir, 'proxy.log')}`)
    .replace('command=/usr/bin/python3 /opt/m3u-proxy/main.py', `command=${program.argv.join(' ')}\nstartsecs=0\nautorestart=false`)
    .replace('pidfile=/tmp/supervisord.pid', `pidfile=${join(dir, 'supervisord.pid')}`)
    .replace('file=/tmp/supervisor.sock', `file=${join(dir, 'supervisor.sock')}`);
  writeFileSync(join(dir, 'template.conf'), template);
  const child = startCli(['run'], { cwd: dir, env: runEnv(dir, { SUPERVISORD_TEMPLATE: join(dir, 'template.conf'), M3U_PROXY_TOKEN: 'chain-token', M3U_PROXY_PORT: '9999' }) });
  const result = exitOf(child);
  const deadline = Date.now() + 15_000;
  while (!existsSync(join(dir, 'report.json')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  const { stdout, stderr } = await result;
  assert.ok(existsSync(join(dir, 'report.json')), `the stand-in never ran:\n${stdout}\n${stderr}`);
  const report = program.report();
  assert.equal(report.ppid, child.pid, 'supervisord runs in the process hls-bootstrap was started as');
  assert.equal(report.env.API_TOKEN, 'chain-token');
  assert.equal(report.env.PORT, '9999');
  assert.equal(report.env.HLS_TEMP_DIR, join(dir, 'hls'));
  assert.match(stdout, new RegExp(`▶ exec supervisord -c ${join(dir, 'supervisord.conf')}\\n`));
});
