// The startup sweep: removes the stream directories a crashed proxy left behind, by age, from inside HLS_TEMP_DIR.
//
// The proxy's garbage collector removes only empty directories, so that it never races FFmpeg;
// after a hard crash the stream directories stay full. At start-up nothing writes them yet, and
// a directory whose newest entry is older than HLS_GC_AGE_THRESHOLD belongs to no live stream:
// it goes, with its contents. The walk is the ownership walk's: directories entered by verified
// handles, never a link followed, never another filesystem entered.

import { lstatSync, type Stats } from 'node:fs';
import { job, name, type Job, type Place } from './jobs.ts';
import { isStreamName, showName, showReason } from './names.ts';
import type { Target } from './observe.ts';
import { now } from './pace.ts';
import { runJobs, type ParallelOptions } from './parallel.ts';
import { ageOf, futureNote, type SweepCounts, type SweepOptions } from './sweep-counts.ts';
import { SweepTask } from './sweep-task.ts';
import { listTop } from './top.ts';

/** An mtime up to this far past the clock is taken as now: another machine's clock may run a little fast. */
export const FUTURE_SLACK_MS = 60_000;

export interface SweepRequest {
  /** The directory swept, as messages name it. */
  readonly target: Target;
  readonly ageSeconds: number;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** False for --dry-run. */
  readonly apply: boolean;
  /** In a shared sticky directory, the owners whose stream directories may go (root and WWWUSER); undefined elsewhere. */
  readonly owners: readonly number[] | undefined;
  /** "uid 1234 (alice)", for the log. */
  readonly describeOwner: (uid: number) => string;
}

export interface SweepReport {
  readonly counts: SweepCounts;
  readonly helpers: number;
  readonly seconds: number;
}

/**
 * Sweeps HLS_TEMP_DIR (the working directory, held at `at`): every direct child whose name starts
 * with m3u_proxy_hls_, that is a directory on the same filesystem, and older than the threshold.
 */
export async function sweepHere(at: Place, request: SweepRequest, run: Omit<ParallelOptions, 'at'>): Promise<SweepReport> {
  const started = now();
  const options: SweepOptions = { ageSeconds: request.ageSeconds, now: request.now, apply: request.apply, dev: at.homeStat.dev, futureMs: FUTURE_SLACK_MS };
  const task = new SweepTask(options);
  const c = task.counts;
  const jobs: Job[] = [];
  for (const entry of listTop(request.target)) {
    if (!isStreamName(entry)) continue;
    const shown = showName(entry);
    let stat: Stats | undefined;
    try {
      stat = lstatSync(entry, { throwIfNoEntry: false });
    } catch (error) {
      // One entry the kernel cannot even describe (EIO) is that entry's failure, not the sweep's.
      c.other++;
      c.failures.push(`${shown}: ${showReason(error)}; kept`);
      continue;
    }
    if (stat === undefined) continue;
    // A link named like a stream directory is not one: never followed, never counted as one.
    if (!stat.isDirectory()) c.notDirectory++;
    else if (stat.dev !== options.dev) {
      c.other++;
      c.failures.push(`${shown}: a mount point of another filesystem; kept`);
    } else if (request.owners !== undefined && !request.owners.includes(stat.uid)) {
      c.foreign++;
      name(c.foreignNames, `${shown} (${request.describeOwner(stat.uid)})`);
    } else {
      const age = ageOf(stat.mtimeMs, options);
      if (age === 'future') {
        c.future++;
        name(c.futureNames, futureNote(shown, stat.mtimeMs, options.now));
      } else if (age === 'young') c.young++;
      else jobs.push(job(entry, stat));
    }
    const pause = at.pace.tick();
    if (pause !== undefined) await pause;
  }
  const report = await runJobs(jobs, task, { kind: 'sweep', options }, { ...run, at });
  for (const problem of report.problems) c.failures.push(problem.error);
  return { counts: c, helpers: report.helpers, seconds: (now() - started) / 1000 };
}
