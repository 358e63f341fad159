// hls-bootstrap as PID 1 of a new PID namespace (unshare --pid --fork --mount-proc), and outside one: stops and the hand-over.

import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { BIN, PATH, ROOT, defer, minimalEnv, renderTo, tempDir } from '../support/cli.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
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
 * An environment whose disk step is slowed deterministically: `df` on its PATH runs the real one
 * under strace, which holds each statfs for 5 s. Ending the strace lets df go on at once.
 */
function slowDisk(dir: string): Record<string, string> {
  const bin = join(dir, 'slow-bin');
  mkdirSync(bin);
  const df = execFileSync('sh', ['-c', 'command -v df'], { encoding: 'utf8' }).trim();
  writeFileSync(join(bin, 'df'), `#!/bin/sh\nexec strace -f -qq -o /dev/null -e trace=%statfs -e inject=%statfs:delay_enter=5000000 ${df} "$@"\n`, { mode: 0o755 });
  return { PATH: `${bin}:${PATH}`, HLS_TEMP_DIR: join(dir, 'hls'), ...renderTo(dir) };
}

/** The strace and df of a slowed disk step, once df waits in its statfs. */
async function slowedDf(pid: number): Promise<number[]> {
  const tracer = await until('strace in the disk step', () => childrenOf(pid).find((child) => commandLine(child).startsWith('strace ')));
  const df = await until('df under strace', () => childrenOf(tracer).find((child) => / -Pk /.test(commandLine(child))));
  // Past exec: df's own statfs is the next thing it does, and strace holds it.
  await new Promise((r) => setTimeout(r, 100));
  return [tracer, df];
}

/** The processes `pid` started that still run, from /proc/PID/task/TID/children. */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Polls `find` every 10 ms until it gives a value, for at most `ms`. */
async function until<T>(what: string, find: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const isRunning = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

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
    const init = await until('PID 1', () => childrenOf(run.child.pid ?? 0)[0]);
    await until('the stand-in\'s report', () => (existsSync(join(dir, 'report.json')) ? true : undefined));
    await new Promise((r) => setTimeout(r, 100));
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as StandInReport;
    assert.equal(report.ppid, 1, 'the proxy\'s parent is PID 1 of the namespace');
    assert.match(commandLine(init), /supervisord -c \S+supervisord\.conf/);
    signal(init, 'SIGTERM');
    const { code } = await run.exited;
    assert.equal(code, 0, run.output.stderr);
    assert.ok(!isRunning(init), 'PID 1 is gone, and with it the namespace');
  });

  for (const name of ['SIGTERM', 'SIGINT'] as const) {
    test(`${name} during render-config --check: 128+N within one second, one line, its trial supervisord gone`, async (t) => {
      if (!needsRoot(t) || !needsProgram(t, 'unshare') || !needsProgram(t, 'supervisord')) return;
      const dir = tempDir(t);
      const check = inNamespace(t, ['render-config', '--check'], dir, { SUPERVISORD_TEMPLATE: join(ROOT, 'docker', 'supervisord.conf') });
      const init = await until('PID 1', () => childrenOf(check.child.pid ?? 0)[0]);
      const trial = await until('the trial supervisord', () => childrenOf(init).find((pid) => commandLine(pid).includes('supervisord')));
      const sent = signal(init, name);
      const { code, at } = await check.exited;
      assert.equal(code, 128 + (SIGNALS[name] ?? 0), check.output.stderr);
      assert.ok(at - sent < 1000, `exited ${at - sent} ms after ${name}`);
      assert.equal(check.output.stderr, `hls-bootstrap: stopped by ${name} during render-config --check\n`);
      assert.ok(!isRunning(trial));
    });
  }

  test('SIGINT during a disk step slowed by strace: 130 within one second, naming the step; nothing written, nothing exec\'d', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'unshare') || !needsProgram(t, 'strace')) return;
    const dir = tempDir(t);
    const run = inNamespace(t, ['run', '--', 'sh', '-c', `touch ${join(dir, 'ran')}`], dir, slowDisk(dir));
    const init = await until('PID 1', () => childrenOf(run.child.pid ?? 0)[0]);
    const helpers = await slowedDf(init);
    const sent = signal(init, 'SIGINT');
    const { code, at } = await run.exited;
    assert.equal(code, 130, run.output.stderr);
    assert.ok(at - sent < 1000, `exited ${at - sent} ms after SIGINT`);
    assert.equal(run.output.stderr, 'hls-bootstrap: stopped by SIGINT during the disk step\n');
    assert.ok(!existsSync(join(dir, 'supervisord.conf')) && !existsSync(join(dir, 'ran')));
    assert.deepEqual(helpers.filter(isRunning), []);
  });
});

describe('outside a PID namespace', () => {
  test('SIGHUP during render-config --check: 129 within one second, and no trial supervisord left', async (t) => {
    if (!needsProgram(t, 'supervisord')) return;
    const dir = tempDir(t);
    const check = start(t, BIN, ['render-config', '--check'], dir, { SUPERVISORD_TEMPLATE: join(ROOT, 'docker', 'supervisord.conf') });
    const pid = check.child.pid ?? 0;
    const trial = await until('the trial supervisord', () => childrenOf(pid).find((child) => commandLine(child).includes('supervisord')));
    const sent = signal(pid, 'SIGHUP');
    const { code, at } = await check.exited;
    assert.equal(code, 129, check.output.stderr);
    assert.ok(at - sent < 1000, `exited ${at - sent} ms after SIGHUP`);
    assert.equal(check.output.stderr, 'hls-bootstrap: stopped by SIGHUP during render-config --check\n');
    await until('the trial supervisord to go', () => (isRunning(trial) ? undefined : true), 1000);
  });

  test('SIGTERM during a disk step slowed by strace: 143 within one second, what it started ended, nothing exec\'d', async (t) => {
    if (!needsProgram(t, 'strace')) return;
    const dir = tempDir(t);
    const run = start(t, BIN, ['run', '--', 'sh', '-c', `touch ${join(dir, 'ran')}`], dir, slowDisk(dir));
    const pid = run.child.pid ?? 0;
    const helpers = await slowedDf(pid);
    const sent = signal(pid, 'SIGTERM');
    const { code, at } = await run.exited;
    assert.equal(code, 143, run.output.stderr);
    assert.ok(at - sent < 1000, `exited ${at - sent} ms after SIGTERM`);
    assert.equal(run.output.stderr, 'hls-bootstrap: stopped by SIGTERM during the disk step\n');
    assert.ok(!existsSync(join(dir, 'supervisord.conf')) && !existsSync(join(dir, 'ran')));
    await until('strace and df to go', () => (helpers.some(isRunning) ? undefined : true), 1000);
  });
});
