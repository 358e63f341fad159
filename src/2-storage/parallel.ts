// Shares a long walk between this process and helper processes, one top-level directory at a time.
//
// A walk costs one or two system calls per entry, so on a large volume its time is the kernel's,
// and a second core halves it. Helpers are processes because each walk needs its own working
// directory. They start only when the walk has run long enough to pay for a Node start-up, they
// inherit HLS_TEMP_DIR as a handle rather than find it again by name, and a stop ends them.

import { availableParallelism } from 'node:os';
import { addCounts, type Counts, type HelperFailure, type Job, type Place, type Task, type TaskSpec } from './jobs.ts';
import { now } from './pace.ts';
import { startHelper, type Helper } from './spawn-helper.ts';

export interface ParallelOptions {
  readonly at: Place;
  /** At most this many helpers; 0 walks here alone. */
  readonly maxHelpers?: number;
  /** Called now and then with the number of entries checked so far, across processes. */
  readonly progress?: (checked: number) => void;
  /** Stop requests: the helpers are told at once (the walk here stops at its next pause). */
  readonly onStop?: (listener: () => void) => () => void;
  /** A descriptor the helpers inherit, asked as they start: the lock on the tree, which they work under. */
  readonly inherit?: () => number | undefined;
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

/** Splits `items` into `parts` nearly equal runs. */
function split<T>(items: readonly T[], parts: number): T[][] {
  const runs: T[][] = [];
  for (let i = 0; i < parts; i++) runs.push(items.slice(Math.floor((i * items.length) / parts), Math.floor(((i + 1) * items.length) / parts)));
  return runs.filter((run) => run.length > 0);
}

/** Runs every job, with the working directory at HLS_TEMP_DIR throughout; counts end up in `task.counts`. */
export async function runJobs<C extends Counts>(jobs: readonly Job[], task: Task<C>, spec: TaskSpec | (() => TaskSpec), options: ParallelOptions): Promise<ParallelReport> {
  const { at } = options;
  const maxHelpers = options.maxHelpers ?? Math.min(availableParallelism() - 1, 3);
  const queue = [...jobs];
  const helpers: Helper[] = [];
  const problems: ParallelReport['problems'] = [];
  const report = (): void => options.progress?.(task.counts.checked + helpers.reduce((sum, h) => sum + h.checked, 0));
  const started = now();
  const atOnce = jobs.reduce((sum, j) => sum + j.stat.size, 0) >= HELPER_AT_ONCE_BYTES;
  const unlisten = options.onStop?.(() => {
    for (const helper of helpers) helper.stop();
  }) ?? (() => undefined);
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
          const what = typeof spec === 'function' ? spec() : spec;
          const inherit = options.inherit?.();
          for (const run of split(given, maxHelpers)) helpers.push(startHelper(at.home, what, run, report, inherit));
        }
      }
      const next = queue.shift();
      if (next !== undefined) await task.runJob(next, at);
      walked++;
      report();
      // Lets helper progress and stop requests in between jobs, too.
      const pause = at.pace.tick();
      if (pause !== undefined) await pause;
    }
    for (const helper of helpers) {
      const result = await helper.done;
      if (result.counts !== undefined) addCounts(task.counts, result.counts);
      if (result.ok) continue;
      // A stop ended it: the pause below says so.
      if (result.failure === 'stopped') continue;
      problems.push({ failure: result.failure, error: result.error });
      // What a failed helper did is already right; what it did not, this process does now.
      if (result.failure === 'failed') for (const j of helper.jobs) await task.runJob(j, at);
    }
    await at.pace.pause();
  } finally {
    unlisten();
    // Stopped or failed here: no helper outlives this walk.
    for (const helper of helpers) helper.stop();
    await Promise.all(helpers.map((h) => h.done));
  }
  report();
  return { helpers: helpers.length, problems };
}
