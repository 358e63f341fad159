// Carries out a storage plan: creates and owns the directory, sweeps it, and re-owns what is in it, from inside it.

import { accessSync, constants, fstatSync, lstatSync, readdirSync } from 'node:fs';
import { BootstrapError, EXIT } from '../errors.ts';
import type { Stop } from '../stop.ts';
import { job, name, type Job, type Place } from './jobs.ts';
import { isStreamName, showName } from './names.ts';
import { NotPermitted, OwnershipTask, type OwnershipCounts, type OwnershipOptions } from './ownership.ts';
import { Pace, now } from './pace.ts';
import { runJobs, type ParallelOptions } from './parallel.ts';
import type { StoragePlan } from './plan.ts';
import { reachProblem, type ProxyUser } from './reach.ts';
import { sweepHere, type SweepReport } from './sweep.ts';
import { chmodHome, chownHome, createMissing, storageError, withinHlsDir, writeGitignore, type Home } from './top.ts';
import { Walk } from './tree.ts';

export interface WalkReport {
  readonly counts: OwnershipCounts;
  readonly helpers: number;
  readonly seconds: number;
  /** Why the walk stopped early, if it did. */
  readonly stopped: string | undefined;
}

export interface StorageResult {
  readonly created: readonly string[];
  readonly chowned: boolean;
  readonly chmodded: boolean;
  /** HLS_TEMP_DIR's owner, group and mode once the step is done (undefined with --dry-run on a missing directory). */
  readonly now: { readonly uid: number; readonly gid: number; readonly mode: number } | undefined;
  readonly gitignoreWritten: boolean;
  readonly sweep: SweepReport | undefined;
  readonly walk: WalkReport | undefined;
  readonly warnings: readonly string[];
}

export interface ApplyOptions {
  /** False for --dry-run: walk and count only. */
  readonly apply: boolean;
  readonly euid: number;
  /** Sweep stale stream directories before the ownership walk, so nothing is re-owned only to go. */
  readonly sweep: { readonly ageSeconds: number; readonly now: number } | undefined;
  readonly progress?: (checked: number) => void;
  /** Ends the sweep and the walk at their next pause, with Interrupted naming "the sweep" or "the storage step". */
  readonly stop?: Stop;
  /** The user the proxy runs as, who must reach the directory and write to it; checked when running as root. */
  readonly proxyUser?: ProxyUser;
  /** "uid 1234 (alice)", for the log. */
  readonly describeOwner?: (uid: number) => string;
}

/** Where a walk named `step` starts: HLS_TEMP_DIR as it is now, and a pace that honours stop requests. */
export function place(fd: number, step: string, stop: Stop | undefined): Place {
  return { home: fd, homeStat: fstatSync(fd), pace: new Pace(() => stop?.check(step)) };
}

/** What a walk's helpers need to know: where to report progress, and when to stop. */
export function parallel(options: { readonly progress?: (checked: number) => void; readonly stop?: Stop | undefined }): Omit<ParallelOptions, 'at'> {
  const { progress, stop } = options;
  return { ...(progress ? { progress } : {}), ...(stop ? { onStop: (listener: () => void) => stop.onRequest(listener) } : {}) };
}

/** Runs `change` on the directory itself; where it is not permitted, goes on only if the directory is writable anyway. */
function changeTop(plan: StoragePlan, what: string, euid: number, warnings: string[], change: () => void): boolean {
  try {
    change();
    return true;
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'EPERM')) throw storageError(plan.path, `cannot ${what}`, error);
    try {
      accessSync('.', constants.W_OK | constants.X_OK);
    } catch {
      throw new BootstrapError(EXIT.STORAGE, `cannot prepare HLS_TEMP_DIR ${plan.path}: not permitted to ${what} as uid ${euid}, `
        + `and uid ${euid} cannot write to it`, { cause: error });
    }
    warnings.push(`not permitted to ${what} as uid ${euid}; it is writable by uid ${euid}, so the start goes on`);
    return false;
  }
}

/** Refuses (exit 73) a directory the proxy could not use: one this process cannot write, or as root, one WWWUSER cannot reach or write. */
function checkReach(plan: StoragePlan, home: Home, options: ApplyOptions): void {
  try {
    // Also what a read-only filesystem says, to root too.
    accessSync('.', constants.W_OK);
  } catch (error) {
    throw storageError(plan.path, 'the proxy could not write to it', error);
  }
  const problem = options.euid === 0 && options.proxyUser !== undefined ? reachProblem(home.real, options.proxyUser) : undefined;
  if (problem !== undefined) throw new BootstrapError(EXIT.STORAGE, `cannot prepare HLS_TEMP_DIR ${plan.path}: ${problem}`);
}

/** Walks the tree under HLS_TEMP_DIR, re-owning (or with `apply` false, counting) what differs. */
async function walkTree(plan: StoragePlan, home: Home, options: ApplyOptions): Promise<WalkReport> {
  const started = now();
  const at = place(home.fd, 'the storage step', options.stop);
  const ownership: OwnershipOptions = { uid: plan.owner.uid, gid: plan.owner.gid, dev: at.homeStat.dev, apply: options.apply };
  const task = new OwnershipTask(ownership);
  const { visitor, counts } = task;
  const top = new Walk(at.home, at.homeStat, at.pace);
  const describe = options.describeOwner ?? ((uid: number) => `uid ${uid}`);
  const jobs: Job[] = [];
  let stopped: string | undefined;
  let helpers = 0;
  try {
    for (const entry of readdirSync('.', { encoding: 'buffer' })) {
      const pause = at.pace.tick();
      if (pause !== undefined) await pause;
      if (plan.walk !== 'stream-dirs') {
        const directory = visitor.visit(entry, top);
        if (directory !== undefined) jobs.push(job(entry, directory));
        continue;
      }
      // In a shared directory only the proxy's own stream directories, root's or WWWUSER's, are anyone's business.
      const stat = isStreamName(entry) ? lstatSync(entry, { throwIfNoEntry: false }) : undefined;
      if (stat?.isDirectory() !== true) continue;
      if (stat.uid !== 0 && stat.uid !== plan.owner.uid) {
        counts.foreign++;
        name(counts.foreignPaths, `${showName(entry)} (${describe(stat.uid)})`);
      } else if (visitor.examine(entry, stat, top)) jobs.push(job(entry, stat));
    }
    const report = await runJobs(jobs, task, { kind: 'own', options: ownership }, { ...parallel(options), at });
    helpers = report.helpers;
    stopped = report.problems[0]?.error;
  } catch (error) {
    if (!(error instanceof NotPermitted)) throw error;
    stopped = error.message;
  }
  return { counts, helpers, seconds: (now() - started) / 1000, stopped };
}

/**
 * Applies `plan`. Works from inside the directory, entered through a handle whose real path is
 * checked once more; the working directory is restored before returning.
 */
export async function applyStorage(plan: StoragePlan, options: ApplyOptions): Promise<StorageResult> {
  const warnings: string[] = [];
  const created = options.apply ? createMissing(plan) : [];
  if (!options.apply && plan.walk === 'none') {
    return { created, chowned: false, chmodded: false, now: undefined, gitignoreWritten: false, sweep: undefined, walk: undefined, warnings };
  }
  return withinHlsDir(plan.path, async (home) => {
    let chowned = false;
    let chmodded = false;
    let gitignoreWritten = false;
    if (options.apply) {
      const { uid, gid, label } = plan.owner;
      if (plan.chown) chowned = changeTop(plan, `give it to ${label}`, options.euid, warnings, () => { chownHome(home, uid, gid); });
      if (plan.chmod) chmodded = changeTop(plan, 'change its mode', options.euid, warnings, () => { chmodHome(home, plan.mode); });
      if (plan.writeGitignore) {
        const written = writeGitignore(plan);
        if (typeof written === 'string') warnings.push(written);
        else gitignoreWritten = written;
      }
      checkReach(plan, home, options);
    }
    // A directory just created holds nothing to sweep or re-own.
    const fresh = plan.walk === 'none';
    const sweep = fresh || options.sweep === undefined ? undefined : await sweepHere(place(home.fd, 'the sweep', options.stop), {
      ...options.sweep, apply: options.apply, owners: plan.shared ? [0, plan.owner.uid] : undefined,
      ...(options.describeOwner ? { describeOwner: options.describeOwner } : {}),
    }, parallel(options));
    const walk = fresh ? undefined : await walkTree(plan, home, options);
    if (walk?.stopped !== undefined) warnings.push(`the ownership walk stopped early: ${walk.stopped}`);
    const after = fstatSync(home.fd);
    return { created, chowned, chmodded, now: { uid: after.uid, gid: after.gid, mode: after.mode & 0o7777 }, gitignoreWritten, sweep, walk, warnings };
  });
}
