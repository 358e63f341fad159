// Carries out a storage plan: creates and owns the directory, sweeps it, and re-owns what is in it, from inside it.

import { accessSync, constants, fstatSync } from 'node:fs';
import { errnoCode } from '../errors.ts';
import type { Stop } from '../stop.ts';
import { cannot } from './observe.ts';
import type { StoragePlan } from './plan.ts';
import { reachProblem, type ProxyUser } from './reach.ts';
import { sweepHere, type SweepReport } from './sweep.ts';
import { chmodHome, chownHome, createMissing, storageError, withinDir, writeGitignore, type Home } from './top.ts';
import { parallel, place, walkTree, type WalkReport } from './walk-tree.ts';

export type { WalkReport } from './walk-tree.ts';

export interface StorageResult {
  readonly created: readonly string[];
  readonly chowned: boolean;
  readonly chmodded: boolean;
  /** The directory's owner, group and mode once the step is done (undefined with --dry-run on a missing directory). */
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
  /** Ends the sweep and the walk at their next pause, with Interrupted naming "the sweep" or the plan's step. */
  readonly stop?: Stop;
  /** The user the proxy runs as, who must reach the directory and write to it; checked when running as root. */
  readonly proxyUser?: ProxyUser;
  /** "uid 1234 (alice)", for the log. */
  readonly describeOwner: (uid: number) => string;
}

/** Runs `change` on the directory itself; where it is not permitted, goes on only if the directory is writable anyway. */
function changeTop(plan: StoragePlan, what: string, euid: number, warnings: string[], change: () => void): boolean {
  try {
    change();
    return true;
  } catch (error) {
    if (errnoCode(error) !== 'EPERM') throw storageError(plan.target, `cannot ${what}`, error);
    try {
      accessSync('.', constants.W_OK | constants.X_OK);
    } catch {
      throw cannot(plan.target, `not permitted to ${what} as uid ${euid}, and uid ${euid} cannot write to it`, error);
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
    throw storageError(plan.target, 'the proxy could not write to it', error);
  }
  const problem = options.euid === 0 && options.proxyUser !== undefined ? reachProblem(home.real, options.proxyUser) : undefined;
  if (problem !== undefined) throw cannot(plan.target, problem);
}

/**
 * Applies `plan`. Works from inside the directory, entered through a handle whose real path is
 * checked once more; the working directory is restored before returning.
 */
export async function applyStorage(plan: StoragePlan, options: ApplyOptions): Promise<StorageResult> {
  const warnings: string[] = [];
  const created = options.apply ? createMissing(plan, options.euid) : [];
  if (!options.apply && plan.walk === 'none') {
    return { created, chowned: false, chmodded: false, now: undefined, gitignoreWritten: false, sweep: undefined, walk: undefined, warnings };
  }
  return withinDir(plan.target, options.euid, async (home) => {
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
      ...options.sweep, target: plan.target, apply: options.apply, owners: plan.shared ? [0, plan.owner.uid] : undefined, describeOwner: options.describeOwner,
    }, parallel(options));
    const walk = fresh ? undefined : await walkTree(plan, home, options);
    if (walk?.stopped !== undefined) warnings.push(`the ownership walk stopped early: ${walk.stopped}`);
    const after = fstatSync(home.fd);
    return { created, chowned, chmodded, now: { uid: after.uid, gid: after.gid, mode: after.mode & 0o7777 }, gitignoreWritten, sweep, walk, warnings };
  });
}
