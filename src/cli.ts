// The entry point: the only module that touches process; everything else takes what it needs as parameters.

import { closeSync, openSync, readFileSync, readdirSync, readSync } from 'node:fs';
import { systemUserDb } from './1-config/users.ts';
import { EXIT, errnoCode } from './errors.ts';
import { main } from './main.ts';
import { fdStream } from './output.ts';
import { STOP_SIGNALS, Stop, type StopSignal } from './stop.ts';

/** How long a stopped start waits for what its steps left running before it exits regardless. */
const STOP_GRACE_MS = 300;

/** Ends, by their ids, the processes this one started and left running (a df, a trial supervisord). */
function endChildren(): void {
  let tasks: string[] = [];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    // No /proc: the children outlive this process, as they would have anyway.
  }
  for (const task of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/self/task/${task}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const pid of children.split(' ').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
}

/**
 * Exits with `code` at once. exit() runs libuv's destructor, which waits for every thread of its
 * pool, and one may be held in a system call (a statfs on a hung network mount) that a stop
 * abandoned. execve ends those threads, so the process becomes a Node that exits with `code`.
 */
function exitNow(code: number): void {
  process.execve?.(process.execPath, [process.execPath, '-e', `process.exitCode = ${code}`], {});
  process.exit(code);
}

/** `bytes` random bytes as hex, from the kernel's CSPRNG; node:crypto costs a start-up 5 ms to load. */
function randomHex(bytes: number): string {
  const buffer = Buffer.alloc(bytes);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, buffer) === bytes) return buffer.toString('hex');
    } finally {
      closeSync(fd);
    }
  } catch {
    // No /dev/urandom in this container: Web Crypto draws from the same kernel source.
  }
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}

/**
 * Runs the command line. `early`: stop signals the loader caught before this module was ready.
 * Until the exec, a stop signal is a request the steps honour at their next safe point.
 */
export function start(early: readonly string[] = []): void {
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch (error) {
    // Removed since the process entered it: every relative path would miss, and Node's own message is a stack.
    process.stderr.write(`hls-bootstrap: its working directory was removed (getcwd: ${errnoCode(error) ?? String(error)}); start it in one that exists\n`);
    process.exitCode = EXIT.CONFIG;
    return;
  }
  const stop = new Stop();
  const onSignal = (signal: NodeJS.Signals): void => {
    stop.request(signal as StopSignal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  for (const signal of early) stop.request(signal as StopSignal);

  main({
    argv: process.argv.slice(2),
    env: process.env,
    stdout: fdStream(1),
    stderr: fdStream(2),
    cwd,
    now: Date.now,
    stop,
    process: {
      execve: process.execve?.bind(process),
      version: process.version,
      pid: process.pid,
      setgroups: (groups) => { process.setgroups?.(groups); },
      setgid: (id) => { process.setgid?.(id); },
      setuid: (id) => { process.setuid?.(id); },
      onSignal: (signal, handler) => {
        process.on(signal, handler);
        return () => process.off(signal, handler);
      },
      // A supervised child takes over the stop signals: from then on they are forwarded, not honoured.
      // Before an exec, they go back to their default action, which the target starts with anyway.
      releaseStopSignals: () => {
        for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      },
    },
    context: {
      users: systemUserDb(),
      euid: process.geteuid?.() ?? 0,
      egid: process.getegid?.() ?? 0,
      randomHex,
    },
  }).then((code) => {
    process.exitCode = code;
    // After a stop, what a step left running (a child, a statfs held by a hung mount) must not
    // keep PID 1 alive: what ends by itself ends first, then the rest is ended and the process goes.
    if (stop.requested !== undefined) {
      setTimeout(() => {
        endChildren();
        exitNow(code);
      }, STOP_GRACE_MS).unref();
    }
  }, (error: unknown) => {
    // Expected failures were turned into exit codes by main(); anything here is a bug.
    process.stderr.write(`hls-bootstrap: internal error, this is a bug:\n${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
