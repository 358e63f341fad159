// Signals around the exec, as PID 1 of a PID namespace and outside one: Node's own SIGUSR1, and a stop in the exec's last instant.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, readlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { defer, renderTo, tempDir } from '../support/cli.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { waitFor } from '../support/processes.ts';
import { startHls, type Started } from '../support/stop.ts';

/** Starts `hls-bootstrap args` in `dir` with stdout on `stdout` (a descriptor, or collected), as PID 1 of a new PID namespace when `pid1`. */
function start(t: TestContext, args: readonly string[], dir: string, pid1: boolean, stdout: number | 'pipe' = 'pipe'): Promise<Started> {
  return startHls(t, args, dir, { HLS_TEMP_DIR: join(dir, 'hls'), ...renderTo(dir) }, pid1, stdout);
}

/** Whether `pid` has `path` open. */
function holds(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Whether a thread of `pid` waits in the kernel function `wchan`. */
function waitsFor(pid: number, wchan: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).some((task) => {
      try {
        return readFileSync(`/proc/${pid}/task/${task}/wchan`, 'utf8') === wchan;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

for (const pid1 of [false, true]) {
  describe(pid1 ? 'as PID 1 of a PID namespace' : 'outside a PID namespace', () => {
    const gate = (t: TestContext): boolean => !pid1 || (needsRoot(t) && needsProgram(t, 'unshare'));

    test('SIGUSR1 before the exec opens no debugger: Node\'s inspector stays shut, and the start goes on', async (t) => {
      if (!gate(t)) return;
      const dir = tempDir(t);
      // An env file that is a FIFO holds the start until the test writes it and closes its end.
      const fifo = join(dir, 'held.env');
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      const writer = openSync(fifo, 'r+');
      const run = await start(t, ['-q', 'run', '--env-file', fifo, '--', 'touch', join(dir, 'ran')], dir, pid1);
      await waitFor('the start to read the FIFO', () => (holds(run.node, fifo) ? true : undefined));
      process.kill(run.node, 'SIGUSR1');
      await new Promise((r) => setTimeout(r, 200));
      writeSync(writer, 'HELD=no\n');
      closeSync(writer);
      const { code, stderr } = await run.exited;
      assert.equal(stderr, '', 'no "Debugger listening" line');
      assert.equal(code, 0);
      assert.ok(existsSync(join(dir, 'ran')), 'the program was exec\'d');
    });

    for (const writer of [false, true]) {
      test(`a stop while an --env-file that is a FIFO ${writer ? 'has a writer that never writes' : 'has no writer'}: 143 within a second, one line, nothing exec'd`, { timeout: 20_000 }, async (t) => {
        if (!gate(t) || !needsProgram(t, 'mkfifo')) return;
        const dir = tempDir(t);
        const fifo = join(dir, 'held.env');
        assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
        // With a writer, opening returns and the read waits; without, the open itself waits.
        if (writer) {
          const held = openSync(fifo, 'r+');
          defer(t, () => {
            closeSync(held);
          });
        }
        const run = await start(t, ['-q', 'run', '--env-file', fifo, '--', 'touch', join(dir, 'ran')], dir, pid1);
        await waitFor('the start to wait on the FIFO', () => (writer ? holds(run.node, fifo) : waitsFor(run.node, 'wait_for_partner')) ? true : undefined);
        const asked = Date.now();
        process.kill(run.node, 'SIGTERM');
        const { code, stderr } = await run.exited;
        const took = Date.now() - asked;
        assert.equal(code, 143, stderr);
        assert.equal(stderr, 'hls-bootstrap: stopped by SIGTERM during the configuration\n');
        assert.ok(took < 1000, `stopped after ${took} ms`);
        assert.ok(!existsSync(join(dir, 'ran')), 'nothing was exec\'d');
      });
    }
  });
}

describe('outside a PID namespace', () => {
  test('a stop signal while the last document is written, after the last look: it ends the process as it would the program, nothing is exec\'d', async (t) => {
    if (!needsProgram(t, 'mkfifo')) return;
    const dir = tempDir(t);
    // The --json document names every variable: these make it larger than a pipe holds, so writing it waits for the reader.
    writeFileSync(join(dir, 'many.env'), Array.from({ length: 6000 }, (_, i) => `PADDING_${String(i).padStart(5, '0')}_${'P'.repeat(12)}=1\n`).join(''));
    const fifo = join(dir, 'stdout');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    // Read-write, so that opening does not wait for a writer; the test reads it only after the signal.
    const reader = openSync(fifo, 'r+');
    defer(t, () => {
      closeSync(reader);
    });
    const run = await start(t, ['--json', 'run', '--env-file', 'many.env', '--', 'touch', join(dir, 'ran')], dir, false, reader);
    // Blocked writing: the pipe is full (64 KiB) and nothing reads it.
    await waitFor('the document to fill the pipe', () => (readFileSync(`/proc/${run.node}/wchan`, 'utf8').endsWith('pipe_write') ? true : undefined));
    process.kill(run.node, 'SIGTERM');
    const drain = spawn('cat', [fifo], { stdio: 'ignore' });
    defer(t, () => drain.kill('SIGKILL'));
    const { code, signal } = await run.exited;
    assert.equal(signal, 'SIGTERM', `exited ${String(code)}`);
    assert.ok(!existsSync(join(dir, 'ran')), 'nothing was exec\'d');
  });
});
