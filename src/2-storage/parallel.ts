// Shares a long walk between this process and helper processes, one top-level directory at a time.
//
// A walk costs one or two system calls per entry, so on a large volume its time is the kernel's,
// and a second core halves it. Helpers are processes because each walk needs its own working
// directory. They start only when the walk has run long enough to pay for a Node start-up.

import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { addCounts, now, type Counts, type HelperFailure, type HelperInput, type HelperResult, type Job, type Task, type TaskSpec } from './jobs.ts';
import type { DirId } from './tree.ts';

export interface ParallelOptions {
  /** The root's path as the kernel names it, for helpers to enter. */
  readonly root: string;
  readonly rootId: DirId;
  /** At most this many helpers; 0 walks here alone. */
  readonly maxHelpers?: number;
  /** Called now and then with the number of entries checked so far, across processes. */
  readonly progress?: (checked: number) => void;
}

/** Start helpers once the walk has run this long and this many jobs remain... */
const HELPER_AFTER_MS = 30;
const HELPER_MIN_JOBS = 4;
/** ...or at once when the directories' sizes promise this many entries (a directory entry takes 20 to 40 bytes). */
const HELPER_AT_ONCE_BYTES = 640 * 1024;
/** About what a helper costs before it walks anything: a Node start-up. */
const HELPER_START_MS = 60;

export interface ParallelReport {
  readonly helpers: number;
  /** Why helpers stopped early. A helper that failed outright had its jobs walked here instead. */
  readonly problems: { readonly failure: HelperFailure; readonly error: string }[];
}

function helperPath(): string {
  // In the build this code is dist/cli.cjs, beside helper.cjs; under the test runner it is the .ts source.
  const file = import.meta.url.endsWith('.ts') ? './helper.ts' : './helper.cjs';
  return fileURLToPath(new URL(file, import.meta.url));
}

interface Helper {
  readonly jobs: readonly Job[];
  checked: number;
  readonly done: Promise<HelperResult>;
  stop(): void;
}

function startHelper(input: HelperInput, onProgress: () => void): Helper {
  const child = spawn(process.execPath, ['--', helperPath()], { stdio: ['pipe', 'pipe', 'inherit'], env: {} });
  const helper: Omit<Helper, 'done'> & { done?: Promise<HelperResult> } = {
    jobs: input.jobs, checked: 0, stop: () => child.kill('SIGTERM'),
  };
  let result: HelperResult | undefined;
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.startsWith('progress ')) {
        helper.checked = Number(line.slice(9));
        onProgress();
      } else if (line.startsWith('result ')) {
        result = JSON.parse(line.slice(7)) as HelperResult;
      }
    }
  });
  helper.done = new Promise((resolve) => {
    child.on('error', (error) => {
      resolve({ ok: false, error: error.message, failure: 'failed' });
    });
    child.on('close', (code, signal) => {
      resolve(result ?? { ok: false, error: `a helper process exited with ${signal ?? String(code)}`, failure: 'failed' });
    });
  });
  child.stdin.end(JSON.stringify(input));
  return helper as Helper;
}

/** Splits `jobs` into `parts` nearly equal runs. */
function split<T>(items: readonly T[], parts: number): T[][] {
  const runs: T[][] = [];
  for (let i = 0; i < parts; i++) runs.push(items.slice(Math.floor((i * items.length) / parts), Math.floor(((i + 1) * items.length) / parts)));
  return runs.filter((run) => run.length > 0);
}

/** Runs every job, with the working directory at the root throughout; counts end up in `task.counts`. */
export async function runJobs<C extends Counts>(jobs: readonly Job[], task: Task<C>, spec: TaskSpec, options: ParallelOptions): Promise<ParallelReport> {
  const maxHelpers = options.maxHelpers ?? Math.min(availableParallelism() - 1, 3);
  const queue = [...jobs];
  const helpers: Helper[] = [];
  const problems: ParallelReport['problems'] = [];
  const report = (): void => options.progress?.(task.counts.checked + helpers.reduce((sum, h) => sum + h.checked, 0));
  const started = now();
  const atOnce = jobs.reduce((sum, j) => sum + j.size, 0) >= HELPER_AT_ONCE_BYTES;
  let walked = 0;

  try {
    while (queue.length > 0) {
      const elapsed = now() - started;
      if (helpers.length === 0 && maxHelpers > 0 && queue.length >= HELPER_MIN_JOBS && (atOnce || elapsed > HELPER_AFTER_MS)) {
        // Keep here what this process walks while the helpers start, then split the rest evenly.
        const keep = walked === 0 ? 0 : Math.ceil(HELPER_START_MS / (elapsed / walked));
        const share = Math.floor(((queue.length - keep) * maxHelpers) / (maxHelpers + 1));
        if (share >= maxHelpers) {
          const given = queue.splice(queue.length - share, share);
          const rootId = { dev: options.rootId.dev.toString(), ino: options.rootId.ino.toString() };
          for (const run of split(given, maxHelpers)) helpers.push(startHelper({ root: options.root, rootId, task: spec, jobs: run }, report));
        }
      }
      const next = queue.shift();
      if (next !== undefined) task.runJob(next, options.rootId);
      walked++;
      report();
      // Lets helper progress and results arrive while this process walks.
      if (helpers.length > 0) await new Promise(setImmediate);
    }
  } catch (error) {
    for (const helper of helpers) helper.stop();
    throw error;
  }

  for (const helper of helpers) {
    const result = await helper.done;
    if (result.counts !== undefined) addCounts(task.counts, result.counts);
    if (result.ok) continue;
    problems.push({ failure: result.failure, error: result.error });
    // What a failed helper did is already right; what it did not, this process does now.
    if (result.failure === 'failed') for (const j of helper.jobs) task.runJob(j, options.rootId);
  }
  report();
  return { helpers: helpers.length, problems };
}

