// Stopping a long start: hls-bootstrap as PID 1 of a new PID namespace or as a plain child, a tree large enough
// that its walk takes seconds, and a signal sent while the walk's helper processes run.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { BIN, defer, minimalEnv } from './cli.ts';
import { alive, childrenOf, commandLine, waitFor } from './processes.ts';
import { compileC } from './storage.ts';

/**
 * Creates `dirs` stream directories of `files` empty segments under `root`, every entry dated
 * `age` seconds ago (its directory after its segments), in C: Node would take seconds longer.
 */
const TREE_C = `
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int dirs = atoi(argv[2]), files = atoi(argv[3]);
  struct timespec times[2] = { { time(NULL) - atol(argv[4]), 0 }, { time(NULL) - atol(argv[4]), 0 } };
  char path[4096];
  for (int d = 0; d < dirs; d++) {
    snprintf(path, sizeof path, "%s/m3u_proxy_hls_%d", argv[1], d);
    if (mkdir(path, 0755) != 0) { perror(path); return 1; }
    for (int f = 0; f < files; f++) {
      snprintf(path, sizeof path, "%s/m3u_proxy_hls_%d/segment_%05d.ts", argv[1], d, f);
      int fd = open(path, O_CREAT | O_WRONLY, 0644);
      if (fd < 0 || futimens(fd, times) != 0 || close(fd) != 0) { perror(path); return 1; }
    }
    snprintf(path, sizeof path, "%s/m3u_proxy_hls_%d", argv[1], d);
    if (utimensat(AT_FDCWD, path, times, 0) != 0) { perror(path); return 1; }
  }
  return 0;
}
`;

/** Fills `root` (which exists) with a tree of `dirs` x `files` segments, owned by root, every entry `age` seconds old. */
export async function bigTree(workDir: string, root: string, dirs: number, files: number, age = 0): Promise<void> {
  const program = compileC(workDir, 'make-tree', TREE_C);
  const child = spawn(program, [root, String(dirs), String(files), String(age)], { stdio: 'inherit' });
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`make-tree exited ${String(code)}`);
}

export interface Started {
  readonly child: ChildProcess;
  /** The Node process of hls-bootstrap (PID 1 inside the namespace), as seen from here. */
  readonly node: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/**
 * Starts `hls-bootstrap ARGS` in `cwd` with a minimal environment plus `env`; with `pid1`, as PID 1
 * of a new PID namespace, as a container runtime starts an ENTRYPOINT. Its stdout is collected, or
 * goes to descriptor `stdout`. Killed when the test ends.
 */
export async function startHls(t: TestContext, args: readonly string[], cwd: string, env: Record<string, string>, pid1: boolean, stdout: number | 'pipe' = 'pipe'): Promise<Started> {
  const [file, argv] = pid1 ? ['unshare', ['--pid', '--fork', '--mount-proc', '--', BIN, ...args]] : [BIN, [...args]];
  const child = spawn(file, argv, { cwd, env: minimalEnv(cwd, env), stdio: ['ignore', stdout, 'pipe'] });
  let out = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout: out, stderr });
    });
  });
  defer(t, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const pid = child.pid ?? -1;
  // In a namespace, unshare forks; its child execs the shim, which execs node in place.
  const node = pid1 ? await waitFor('the process in the namespace', () => childrenOf(pid).find((p) => commandLine(p).includes('boot.cjs')), 10_000, 5) : pid;
  // unshare's child outlives unshare killed.
  defer(t, () => {
    try {
      process.kill(node, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  });
  return { child, node, exited };
}

/** Waits until `node` runs walk helpers, and returns their pids (looking every 5 ms, to catch the walk early). */
export async function helpersRunning(node: number): Promise<number[]> {
  return waitFor('a walk helper', () => {
    const helpers = childrenOf(node).filter((p) => commandLine(p).includes('helper.cjs'));
    return helpers.length > 0 ? helpers : undefined;
  }, 30_000, 5);
}

/** Of `pids`, those still running. */
export function stillRunning(pids: readonly number[]): number[] {
  return pids.filter(alive);
}

/**
 * Sends `signal` (number `number`) to the Node process of `run`, which runs `helpers`, and asserts that it
 * ends within a second with 128+N, saying it was stopped during `step`, and leaves no helper running.
 */
export async function assertStoppedPromptly(run: Started, signal: string, number: number, step: string, helpers: readonly number[]): Promise<void> {
  const sent = performance.now();
  process.kill(run.node, signal);
  const r = await run.exited;
  const took = performance.now() - sent;
  assert.equal(r.code, 128 + number, r.stderr);
  assert.ok(took < 1000, `${signal}: ended ${took.toFixed(0)} ms after the signal`);
  assert.match(r.stderr, new RegExp(`stopped by ${signal} during ${step}`));
  assert.deepEqual(stillRunning(helpers), [], 'no helper left running');
}
