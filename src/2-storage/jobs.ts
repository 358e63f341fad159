// Jobs of a walk: the top-level directories it is split into, and what each process reports for them.

import { enter, leave, type DirId } from './tree.ts';

/** Milliseconds on a monotonic clock; `performance` would load Node's perf_hooks at start-up. */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** A top-level directory to walk, with its identity as examined. */
export interface Job {
  readonly name: string;
  readonly dev: string;
  readonly ino: string;
  /** The directory's size in bytes, which grows with its entries: an estimate of the work. */
  readonly size: number;
}

export function job(name: string, id: DirId, size: number): Job {
  return { name, dev: id.dev.toString(), ino: id.ino.toString(), size };
}

export function jobId(j: Job): DirId {
  return { dev: BigInt(j.dev), ino: BigInt(j.ino) };
}

/** Counts that add up across processes: numbers are summed, lists concatenated. */
export type Counts = { checked: number } & Record<string, number | string[]>;

/** The work done on each job; the same in this process and in a helper. */
export interface Task<C extends Counts> {
  readonly counts: C;
  /** Walks `job` from the root (the working directory), and returns with the working directory there. */
  runJob(job: Job, root: DirId): void;
}

/** How a helper rebuilds the task: its kind and its options, as JSON. */
export interface TaskSpec {
  readonly kind: string;
  readonly options: unknown;
}

/** What a helper reads on stdin. */
export interface HelperInput {
  readonly root: string;
  readonly rootId: { readonly dev: string; readonly ino: string };
  readonly task: TaskSpec;
  readonly jobs: readonly Job[];
}

/** Why a helper stopped early: the tree changed, re-owning was refused, or it failed outright. */
export type HelperFailure = 'tree-changed' | 'not-permitted' | 'failed';

/** What a helper writes as its last line. */
export type HelperResult =
  | { readonly ok: true; readonly counts: Counts }
  | { readonly ok: false; readonly error: string; readonly failure: HelperFailure; readonly counts?: Counts };

export function addCounts(target: Counts, from: Counts): void {
  for (const [key, value] of Object.entries(from)) {
    const current = target[key];
    if (typeof value === 'number' && typeof current === 'number') target[key] = current + value;
    else if (Array.isArray(value) && Array.isArray(current)) current.push(...value);
  }
}

/**
 * Enters a job's directory from the root, runs `body` there, and comes back. If `body` throws,
 * the working directory is wherever the walk stopped.
 */
export function withinJob(j: Job, root: DirId, body: (id: DirId) => void): void {
  const id = jobId(j);
  enter(j.name, id);
  body(id);
  leave(root);
}
