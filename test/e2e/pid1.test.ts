// hls-bootstrap as PID 1 of a new PID namespace (unshare --pid --fork --mount-proc), and outside one: stops and the hand-over.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { constants } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { BIN, ROOT, defer, minimalEnv, renderTo, tempDir } from '../support/cli.ts';
import { alive, childrenOf, commandLine, waitFor } from '../support/processes.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { compileC } from '../support/storage.ts';
import { STAND_IN, type StandInReport } from '../support/supervisord.ts';

interface Started {
  readonly child: ChildProcess;
  readonly output: { stdout: string; stderr: string };
  /** Resolves with the exit code, and the time it came. */
  readonly exited: Promise<{ code: number | null; at: number }>;
}

/** Spawns `file args` with hls-bootstrap's minimal environment, collecting its output. */
function start(t: TestContext, file: string, args: readonly string[], cwd: string, env: Record<string, string>, stdin: 'pipe' | 'ignore' = 'ignore'): Started {
  const child = spawn(file, [...args], { cwd, env: minimalEnv(cwd, env), stdio: [stdin, 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d: Buffer) => (output.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output.stderr += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('close', (code) => {
    resolve({ code, at: Date.now() });
  }));
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, output, exited };
}

/** hls-bootstrap as PID 1 of a new PID namespace. */
function inNamespace(t: TestContext, args: readonly string[], cwd: string, env: Record<string, string>): Started {
  return start(t, 'unshare', ['--pid', '--fork', '--mount-proc', '--', BIN, ...args], cwd, env);
}

/**
 * hold-statfs (test/fixtures/hold-statfs.c), compiled once: it runs a command whose every statfs(2)
 * waits in the kernel, killably, as one on a hung network mount does, until the command is killed.
 */
let holdStatfs: string | undefined;
function holdStatfsBinary(): string {
  if (holdStatfs === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'hls-bootstrap-hold-'));
    process.on('exit', () => {
      rmSync(dir, { recursive: true, force: true });
    });
    holdStatfs = compileC(dir, 'hold-statfs', readFileSync(join(ROOT, 'test', 'fixtures', 'hold-statfs.c'), 'utf8'));
  }
  return holdStatfs;
}

/**
 * A holder for the statfs calls of a command run through `hold-statfs run SOCKET`: a process of the
 * test, so that nothing the command does (it ends its own children after a stop) can release them.
 */
async function statfsHolder(t: TestContext, dir: string): Promise<string[]> {
  const socket = join(dir, 'holder.sock');
  const holder = start(t, holdStatfsBinary(), ['hold', socket], dir, {});
  await waitFor('the statfs holder to listen', () => (holder.output.stdout.includes('listening') ? true : undefined));
  return [holdStatfsBinary(), 'run', socket];
}

/** The exit of `run`, or a failure once `ms` pass without one: a stop that is not honoured must fail, not hang. */
async function exitWithin(run: Started, ms: number): Promise<{ code: number | null; at: number }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no exit within ${ms} ms; stderr: ${run.output.stderr}`));
    }, ms);
  });
  try {
    return await Promise.race([run.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the storage step has logged its last line: the disk step's statfs comes next, and waits. */
async function diskStepWaits(output: { stdout: string }): Promise<void> {
  await waitFor('the storage step to end', () => (/✅ Created:|Checked \d+ entr/.test(output.stdout) ? true : undefined));
  await new Promise((r) => setTimeout(r, 200));
}

/** Sends `name` to `pid`; returns when it was sent, which the "within one second" counts from. */
function signal(pid: number, name: NodeJS.Signals): number {
  process.kill(pid, name);
  return Date.now();
}

/** A template whose proxy is the stand-in, with supervisord's files kept in `dir`. */
function standInTemplate(dir: string): string {
  const text = readFileSync(join(ROOT, 'docker', 'supervisord.conf'), 'utf8')
    .replace('stdout_logfile=/dev/stdout', `stdout_logfile=${join(dir, 'proxy.log')}`)
    .replace('command=/usr/bin/python3 /opt/m3u-proxy/main.py', `command=${process.execPath} ${STAND_IN} --out ${join(dir, 'report.json')}\nstartsecs=0\nautorestart=false`)
    .replace('pidfile=/tmp/supervisord.pid', `pidfile=${join(dir, 'supervisord.pid')}`)
    .replace('file=/tmp/supervisor.sock', `file=${join(dir, 'supervisor.sock')}`);
  writeFileSync(join(dir, 'template.conf'), text);
  return join(dir, 'template.conf');
}

const SIGNALS: Record<string, number> = constants.signals;

describe('as PID 1 of a PID namespace', () => {
  test('after a start that is not interrupted, supervisord is PID 1, and a SIGTERM to it ends the namespace', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'unshare') || !needsProgram(t, 'supervisord')) return;
    const dir = tempDir(t);
    const run = inNamespace(t, ['run'], dir, { HLS_TEMP_DIR: join(dir, 'hls'), ...renderTo(dir), SUPERVISORD_TEMPLATE: standInTemplate(dir) });
    const init = await waitFor('PID 1', () => childrenOf(run.child.pid ?? 0)[0]);
    await waitFor('the stand-in\'s report', () => (existsSync(join(dir, 'report.json')) ? true : undefined));
    await new Promise((r) => setTimeout(r, 100));
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as StandInReport;
    assert.equal(report.ppid, 1, 'the proxy\'s parent is PID 1 of the namespace');
    assert.match(commandLine(init), /supervisord -c \S+supervisord\.conf/);
    signal(init, 'SIGTERM');
    const { code } = await run.exited;
    assert.equal(code, 0, run.output.stderr);
    assert.ok(!alive(init), 'PID 1 is gone, and with it the namespace');
  });

  test('--supervise as PID 1 says, once, that the orphans it inherits are not reaped, which is so', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'unshare')) return;
    const dir = tempDir(t);
    // The subshell exits at once: its sleep is re-parented to PID 1, and exits 0.1 s later.
    const script = '(sleep 0.1 &); sleep 0.8; ps -o stat= -o comm= -p "$(pgrep -d, -P 1 sleep)"';
    const run = inNamespace(t, ['-q', 'run', '--supervise', '--', 'sh', '-c', script], dir, { HLS_TEMP_DIR: join(dir, 'hls'), ...renderTo(dir) });
    const { code } = await exitWithin(run, 15_000);
    assert.equal(code, 0, run.output.stderr);
    assert.equal(run.output.stderr, 'hls-bootstrap: warning: as PID 1, hls-bootstrap waits only for sh, not for the orphans re-parented to it, which stay zombies until it exits (Node.js cannot wait for a process it did not start); docker run --init reaps them\n');
    assert.match(run.output.stdout, /^Z\s+sleep\n/, 'the orphan is a zombie');
  });

  for (const name of ['SIGTERM', 'SIGINT'] as const) {
    test(`${name} during render-config --check: 128+N within one second, one line, its trial supervisord gone`, async (t) => {
      if (!needsRoot(t) || !needsProgram(t, 'unshare') || !needsProgram(t, 'supervisord')) return;
      const dir = tempDir(t);
      const check = inNamespace(t, ['render-config', '--check'], dir, { SUPERVISORD_TEMPLATE: join(ROOT, 'docker', 'supervisord.conf') });
      const init = await waitFor('PID 1', () => childrenOf(check.child.pid ?? 0)[0]);
      const trial = await waitFor('the trial supervisord', () => childrenOf(init).find((pid) => commandLine(pid).includes('supervisord')));
      const sent = signal(init, name);
      const { code, at } = await check.exited;
      assert.equal(code, 128 + (SIGNALS[name] ?? 0), check.output.stderr);
      assert.ok(at - sent < 1000, `exited ${at - sent} ms after ${name}`);
      assert.equal(check.output.stderr, `hls-bootstrap: stopped by ${name} during render-config --check\n`);
      assert.ok(!alive(trial));
    });
  }

  test('SIGINT during a disk step whose statfs waits in the kernel: 130 within one second, naming the step; nothing written, nothing exec\'d', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'unshare') || !needsProgram(t, 'gcc')) return;
    const dir = tempDir(t);
    const env = { HLS_TEMP_DIR: join(dir, 'hls'), ...renderTo(dir) };
    const held = await statfsHolder(t, dir);
    const run = start(t, 'unshare', ['--pid', '--fork', '--mount-proc', '--', ...held, BIN, 'run', '--', 'touch', join(dir, 'ran')], dir, env);
    const init = await waitFor('PID 1', () => childrenOf(run.child.pid ?? 0)[0]);
    await diskStepWaits(run.output);
    const sent = signal(init, 'SIGINT');
    const { code, at } = await exitWithin(run, 5000);
    assert.equal(code, 130, run.output.stderr);
    assert.ok(at - sent < 1000, `exited ${at - sent} ms after SIGINT`);
    assert.equal(run.output.stderr, 'hls-bootstrap: stopped by SIGINT during the disk step\n');
    assert.ok(!existsSync(join(dir, 'supervisord.conf')) && !existsSync(join(dir, 'ran')));
  });
});

describe('outside a PID namespace', () => {
  test('SIGHUP during render-config --check: 129 within one second, and no trial supervisord left', async (t) => {
    if (!needsProgram(t, 'supervisord')) return;
    const dir = tempDir(t);
    const check = start(t, BIN, ['render-config', '--check'], dir, { SUPERVISORD_TEMPLATE: join(ROOT, 'docker', 'supervisord.conf') });
    const pid = check.child.pid ?? 0;
    const trial = await waitFor('the trial supervisord', () => childrenOf(pid).find((child) => commandLine(child).includes('supervisord')));
    const sent = signal(pid, 'SIGHUP');
    const { code, at } = await check.exited;
    assert.equal(code, 129, check.output.stderr);
    assert.ok(at - sent < 1000, `exited ${at - sent} ms after SIGHUP`);
    assert.equal(check.output.stderr, 'hls-bootstrap: stopped by SIGHUP during render-config --check\n');
    await waitFor('the trial supervisord to go', () => (alive(trial) ? undefined : true), 1000);
  });

  test('SIGTERM during a disk step whose statfs waits in the kernel: 143 within one second, nothing exec\'d', async (t) => {
    if (!needsProgram(t, 'gcc')) return;
    const dir = tempDir(t);
    const [holder = '', ...held] = await statfsHolder(t, dir);
    const run = start(t, holder, [...held, BIN, 'run', '--', 'touch', join(dir, 'ran')], dir, { HLS_TEMP_DIR: join(dir, 'hls'), ...renderTo(dir) });
    const pid = run.child.pid ?? 0;
    await diskStepWaits(run.output);
    const sent = signal(pid, 'SIGTERM');
    const { code, at } = await exitWithin(run, 5000);
    assert.equal(code, 143, run.output.stderr);
    assert.ok(at - sent < 1000, `exited ${at - sent} ms after SIGTERM`);
    assert.equal(run.output.stderr, 'hls-bootstrap: stopped by SIGTERM during the disk step\n');
    assert.ok(!existsSync(join(dir, 'supervisord.conf')) && !existsSync(join(dir, 'ran')));
  });
});
