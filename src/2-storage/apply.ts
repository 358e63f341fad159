// Carries out a storage plan: creates the directory, re-owns it and what is in it, from inside it.

import { accessSync, chmodSync, chownSync, closeSync, constants, fchownSync, lstatSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { BootstrapError, EXIT, errnoCode, reason } from '../errors.ts';
import { refuseSystemPath } from './observe.ts';
import { NotPermitted, OwnershipTask, type OwnershipCounts, type OwnershipOptions } from './ownership.ts';
import { job, now, type Job } from './jobs.ts';
import { runJobs } from './parallel.ts';
import { GITIGNORE, STREAM_DIR_PREFIX, type StoragePlan } from './plan.ts';
import { sweepHere, type SweepReport } from './sweep.ts';
import { TreeChanged, Walk, idOf, type DirId } from './tree.ts';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, W_OK, X_OK } = constants;

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
}

/**
 * Runs `body` inside HLS_TEMP_DIR, whose real path is checked once more from inside (the kernel's
 * own name for it: no link swapped in since can hide a system path); the working directory is
 * restored afterwards.
 */
export async function withinHlsDir<T>(path: string, body: (root: DirId) => Promise<T>): Promise<T> {
  const home = process.cwd();
  try {
    try {
      process.chdir(path);
    } catch (error) {
      throw storageError(path, 'cannot enter it', error);
    }
    refuseSystemPath(path, process.cwd());
    return await body(idOf('.'));
  } finally {
    process.chdir(home);
  }
}

function storageError(path: string, what: string, error: unknown): BootstrapError {
  return new BootstrapError(EXIT.STORAGE, `cannot prepare HLS_TEMP_DIR ${path}: ${what}: ${reason(error)}`, { cause: error });
}

function writable(): boolean {
  try {
    accessSync('.', W_OK | X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs `change` on the directory itself; where it is not permitted, goes on only if the directory is writable anyway. */
function changeTop(plan: StoragePlan, what: string, euid: number, warnings: string[], change: () => void): boolean {
  try {
    change();
    return true;
  } catch (error) {
    if (errnoCode(error) !== 'EPERM') throw storageError(plan.path, `cannot ${what}`, error);
    if (!writable()) {
      throw new BootstrapError(EXIT.STORAGE, `cannot prepare HLS_TEMP_DIR ${plan.path}: not permitted to ${what} as uid ${euid}, `
        + `and uid ${euid} cannot write to it`, { cause: error });
    }
    warnings.push(`not permitted to ${what} as uid ${euid}; it is writable by uid ${euid}, so the start goes on`);
    return false;
  }
}

function writeGitignore(plan: StoragePlan): boolean {
  let fd: number;
  try {
    fd = openSync('.gitignore', O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  } catch (error) {
    // Something by that name appeared since the plan was made: it stays.
    if (errnoCode(error) === 'EEXIST' || errnoCode(error) === 'ELOOP') return false;
    throw storageError(plan.path, 'cannot write .gitignore', error);
  }
  try {
    writeSync(fd, GITIGNORE);
    fchownSync(fd, plan.owner.uid, plan.owner.gid);
  } catch (error) {
    if (errnoCode(error) !== 'EPERM') throw storageError(plan.path, 'cannot write .gitignore', error);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Walks the tree under the working directory, re-owning (or with `apply` false, counting) what differs. */
async function walkTree(plan: StoragePlan, root: DirId, options: ApplyOptions): Promise<WalkReport> {
  const started = now();
  const ownership: OwnershipOptions = {
    uid: plan.owner.uid, gid: plan.owner.gid, dev: lstatSync('.').dev, apply: options.apply,
  };
  const task = new OwnershipTask(ownership);
  const top = new Walk();
  const jobs: Job[] = [];
  let stopped: string | undefined;
  let helpers = 0;
  try {
    for (const name of readdirSync('.')) {
      // In a shared directory only the proxy's own stream directories are anyone's business.
      if (plan.walk === 'stream-dirs' && !name.startsWith(STREAM_DIR_PREFIX)) continue;
      let stat;
      try {
        stat = lstatSync(name);
      } catch {
        task.visitor.vanished();
        continue;
      }
      if (plan.walk === 'stream-dirs' && !stat.isDirectory()) continue;
      if (task.visitor.visit(name, stat, top)) jobs.push(job(name, idOf(name), stat.size));
    }
    const spec = { kind: 'own', options: ownership };
    const report = await runJobs(jobs, task, spec, { root: process.cwd(), rootId: root, ...(options.progress ? { progress: options.progress } : {}) });
    helpers = report.helpers;
    const problem = report.problems[0];
    if (problem !== undefined) stopped = problem.error;
  } catch (error) {
    if (!(error instanceof NotPermitted) && !(error instanceof TreeChanged)) throw error;
    stopped = error.message;
  }
  return { counts: task.counts, helpers, seconds: (now() - started) / 1000, stopped };
}

/**
 * Applies `plan`. Works from inside the directory, whose real path is checked once more after
 * entering it; the working directory is restored before returning.
 */
export async function applyStorage(plan: StoragePlan, options: ApplyOptions): Promise<StorageResult> {
  const warnings: string[] = [];
  const created: string[] = [];
  if (options.apply) {
    for (const dir of plan.create) {
      try {
        mkdirSync(dir, 0o755);
        created.push(dir);
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw storageError(plan.path, `cannot create ${dir}`, error);
      }
    }
  } else if (plan.walk === 'none') {
    return { created, chowned: false, chmodded: false, gitignoreWritten: false, sweep: undefined, walk: undefined, warnings };
  }

  return withinHlsDir(plan.path, async (root) => {
    let chowned = false;
    let chmodded = false;
    let gitignoreWritten = false;
    if (options.apply) {
      const { uid, gid, label } = plan.owner;
      if (plan.chown) chowned = changeTop(plan, `give it to ${label}`, options.euid, warnings, () => { chownSync('.', uid, gid); });
      if (plan.chmod) chmodded = changeTop(plan, 'change its mode', options.euid, warnings, () => { chmodSync('.', plan.mode); });
      if (plan.writeGitignore) gitignoreWritten = writeGitignore(plan);
      try {
        accessSync('.', W_OK);
      } catch (error) {
        throw storageError(plan.path, 'the proxy could not write to it', error);
      }
    }
    // A directory just created holds nothing to sweep or re-own.
    const fresh = plan.walk === 'none';
    const sweep = fresh || options.sweep === undefined ? undefined : await sweepHere(root, { ...options.sweep, apply: options.apply }, options.progress);
    const walk = fresh ? undefined : await walkTree(plan, root, options);
    if (walk?.stopped !== undefined) warnings.push(`the ownership walk stopped early: ${walk.stopped}`);
    return { created, chowned, chmodded, gitignoreWritten, sweep, walk, warnings };
  });
}
