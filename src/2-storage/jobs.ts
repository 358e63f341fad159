// Jobs of a walk: the top-level directories it is split into, and what each process reports for them.

import type { Stats } from 'node:fs';
import type { Name } from './names.ts';
import type { Pace } from './pace.ts';

/** What was examined of a top-level directory: enough to check its handle, its size (the work it holds), and for the sweep, its blocks. */
export type JobStat = Pick<Stats, 'dev' | 'ino' | 'mode' | 'size' | 'blocks'>;

/** A top-level directory to walk, as examined. Its size in bytes grows with its entries: an estimate of the work. */
export interface Job {
  readonly name: Name;
  readonly stat: JobStat;
}

export function job(name: Name, stat: Stats): Job {
  const { dev, ino, mode, size, blocks } = stat;
  return { name, stat: { dev, ino, mode, size, blocks } };
}

/** A job as JSON carries it to a helper: the name's bytes in base64. */
export interface WireJob {
  readonly name: string;
  readonly stat: JobStat;
}

export function toWire(j: Job): WireJob {
  return { name: Buffer.from(j.name).toString('base64'), stat: j.stat };
}

export function fromWire(j: WireJob): Job {
  return { name: Buffer.from(j.name, 'base64'), stat: j.stat };
}

/** Where a walk starts and comes back to: HLS_TEMP_DIR, the working directory, held by a handle. */
export interface Place {
  readonly home: number;
  readonly homeStat: Stats;
  /** The id of the mount it is on, where the kernel says: read once, since a handle's mount does not change. */
  readonly homeMount: number | undefined;
  readonly pace: Pace;
}

/** Counts that add up across processes: numbers are summed, lists concatenated. */
export type Counts = { checked: number } & Record<string, number | string[]>;

/** The work done on each job; the same in this process and in a helper. */
export interface Task<C extends Counts> {
  readonly counts: C;
  /** Walks `job` from HLS_TEMP_DIR and comes back there, also when it throws. */
  runJob(job: Job, at: Place): Promise<void>;
}

/** How a helper rebuilds the task: its kind and its options, as JSON. */
export interface TaskSpec {
  readonly kind: string;
  readonly options: unknown;
}

/** What a helper reads on stdin; HLS_TEMP_DIR itself it inherits as descriptor 3. */
export interface HelperInput {
  /** The process that started it: when its parent is no longer this one, the helper stops. */
  readonly parent: number;
  readonly task: TaskSpec;
  readonly jobs: readonly WireJob[];
}

/** The descriptor on which a helper finds HLS_TEMP_DIR. */
export const HELPER_HOME_FD = 3;

/** Why a helper stopped early: re-owning was refused, it was asked to stop, or it failed outright. */
export type HelperFailure = 'not-permitted' | 'stopped' | 'failed';

/** What a helper writes as its last line. */
export type HelperResult =
  | { readonly ok: true; readonly counts: Counts }
  | { readonly ok: false; readonly error: string; readonly failure: HelperFailure; readonly counts?: Counts };

/** How many paths of each kind a process names; the rest are only counted. */
export const NAMED = 10;

export function addCounts(target: Counts, from: Counts): void {
  for (const [key, value] of Object.entries(from)) {
    const current = target[key];
    if (typeof value === 'number' && typeof current === 'number') target[key] = current + value;
    else if (Array.isArray(value) && Array.isArray(current)) current.push(...value);
  }
}

/** Adds `path` to `list` unless it already names NAMED paths. */
export function name(list: string[], path: string): void {
  if (list.length < NAMED) list.push(path);
}
