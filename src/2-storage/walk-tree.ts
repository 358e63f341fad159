// The ownership walk of HLS_TEMP_DIR: its top level here, then one top-level directory at a time, shared with helpers.

import type { Stop } from '../stop.ts';
import { job, name, type Job, type Place, type TaskSpec } from './jobs.ts';
import { TreeLock, type LockState } from './lock.ts';
import { fileMounts } from './mounts.ts';
import { isStreamName, showName } from './names.ts';
import { NotPermitted, OwnershipTask, type OwnershipCounts, type OwnershipOptions } from './ownership.ts';
import { Pace, now } from './pace.ts';
import { runJobs, type ParallelOptions } from './parallel.ts';
import type { StoragePlan } from './plan.ts';
import { listTop, type Home } from './top.ts';
import { Walk, placeAt } from './tree.ts';

export interface WalkReport {
  readonly counts: OwnershipCounts;
  readonly helpers: number;
  readonly seconds: number;
  /** Why the walk stopped early, if it did. */
  readonly stopped: string | undefined;
}

/** Where a walk named `step` starts: HLS_TEMP_DIR as it is now, and a pace that honours stop requests. */
export function place(fd: number, step: string, stop: Stop | undefined): Place {
  return placeAt(fd, new Pace(() => stop?.check(step)));
}

/** What a walk's helpers need to know: where to report progress, and when to stop. */
export function parallel(options: { readonly progress?: (checked: number) => void; readonly stop?: Stop | undefined }): Omit<ParallelOptions, 'at'> {
  const { progress, stop } = options;
  return { ...(progress ? { progress } : {}), ...(stop ? { onStop: (listener: () => void) => stop.onRequest(listener) } : {}) };
}

export interface WalkOptions {
  /** False for --dry-run: count what would change, change nothing. */
  readonly apply: boolean;
  readonly progress?: (checked: number) => void;
  /** Ends the walk at its next pause with Interrupted naming the plan's step. */
  readonly stop?: Stop | undefined;
  /** "uid 1234 (alice)", for the log. */
  readonly describeOwner: (uid: number) => string;
}

/** Walks the tree under HLS_TEMP_DIR, re-owning (or with `apply` false, counting) what differs. */
export async function walkTree(plan: StoragePlan, home: Home, options: WalkOptions): Promise<WalkReport> {
  const started = now();
  const at = place(home.fd, plan.target.step, options.stop);
  const ownership: OwnershipOptions = { uid: plan.owner.uid, gid: plan.owner.gid, dev: at.homeStat.dev, apply: options.apply, fileMounts: fileMounts(home.real) };
  // Taken only once a directory only root can write needs a change, or helpers start.
  const lock = options.apply ? new TreeLock(home.fd) : undefined;
  const locked = (): LockState => lock?.get() ?? 'none';
  const task = new OwnershipTask(ownership, locked);
  const { visitor, counts } = task;
  const top = new Walk(at);
  const jobs: Job[] = [];
  let stopped: string | undefined;
  let helpers = 0;
  try {
    for (const entry of listTop(plan.target)) {
      const pause = at.pace.tick();
      if (pause !== undefined) await pause;
      if (plan.walk !== 'stream-dirs') {
        const directory = visitor.visit(entry, top);
        if (directory !== undefined) jobs.push(job(entry, directory));
        continue;
      }
      // In a shared directory only the proxy's own stream directories, root's or WWWUSER's, are anyone's business.
      if (!isStreamName(entry)) continue;
      const stat = visitor.look(entry, top);
      if (stat?.isDirectory() !== true) continue;
      if (stat.uid !== 0 && stat.uid !== plan.owner.uid) {
        counts.foreign++;
        name(counts.foreignPaths, `${showName(entry)} (${options.describeOwner(stat.uid)})`);
      } else if (visitor.examine(entry, stat, top)) jobs.push(job(entry, stat));
    }
    const spec = (): TaskSpec => ({ kind: 'own', options: { ...ownership, lock: locked() } });
    const report = await runJobs(jobs, task, spec, { ...parallel(options), at, inherit: () => lock?.descriptor() });
    helpers = report.helpers;
    stopped = report.problems[0]?.error;
  } catch (error) {
    if (!(error instanceof NotPermitted)) throw error;
    stopped = error.message;
  } finally {
    lock?.release();
  }
  return { counts, helpers, seconds: (now() - started) / 1000, stopped };
}
