// Looks at a directory to prepare (HLS_TEMP_DIR, HLS_BROADCAST_DIR) without changing anything: what exists, what is missing, where links lead.

import { closeSync, lstatSync } from 'node:fs';
import { posix } from 'node:path';
import { systemPathProblem } from '../1-config/parse.ts';
import { BootstrapError, EXIT } from '../errors.ts';
import { chase, NotADirectory, UnsafeLink, type Chased } from './chase.ts';
import { viaHandle } from './handles.ts';
import { showReason } from './names.ts';

/** A directory the storage step prepares, and how its messages name it. */
export interface Target {
  /** The variable that configures it, as refusals name it: HLS_TEMP_DIR or HLS_BROADCAST_DIR. */
  readonly variable: string;
  /** Its path as configured (absolute, normalised). */
  readonly path: string;
  /** What the log calls it: "Creating HLS storage directory...". */
  readonly noun: string;
  /** The step a stop interrupts, as the stop's line names it. */
  readonly step: string;
}

/** The directory as it is now. */
export interface Observation {
  readonly target: Target;
  /** The path as configured. */
  readonly path: string;
  /** Where it really is: its existing part with every symlink resolved, then the missing rest. */
  readonly real: string;
  /** Directories to create, outermost first; empty when the directory exists. */
  readonly missing: readonly string[];
  /** Owner, group and mode of the directory, when it exists. */
  readonly current: { readonly uid: number; readonly gid: number; readonly mode: number } | undefined;
  /** Whether the directory holds a .gitignore (or anything by that name). */
  readonly hasGitignore: boolean;
}

/** Exit 73: `target` cannot be prepared, and `what` says why. */
export function cannot(target: Target, what: string, cause?: unknown): BootstrapError {
  return new BootstrapError(EXIT.STORAGE, `cannot prepare ${target.variable} ${target.path}: ${what}`, cause === undefined ? undefined : { cause });
}

/** Refuses a directory whose links lead to a system directory (exit 78). */
export function refuseSystemPath(target: Target, real: string): void {
  if (real === target.path) return;
  const problem = systemPathProblem(real);
  if (problem !== undefined) {
    throw new BootstrapError(EXIT.CONFIG, `${target.variable}=${JSON.stringify(target.path)} is not valid: through symbolic links it is ${real}, and ${problem}`);
  }
}

/**
 * Observes `target` by handles, as `euid` would reach it (see chase.ts). Throws 73 when a file
 * blocks it or a link on the way is one another user could have planted, 78 when links lead to a
 * system directory.
 */
export function observe(target: Target, euid: number): Observation {
  const { path } = target;
  let chased: Chased;
  try {
    chased = chase(path, euid);
  } catch (error) {
    if (error instanceof UnsafeLink) throw cannot(target, `${error.message}; set ${target.variable} to the directory it leads to, or let only root write the directory that holds it`);
    if (error instanceof NotADirectory) throw cannot(target, error.message);
    throw cannot(target, showReason(error));
  }
  try {
    const missing = chased.missing.map((_, i) => posix.join(chased.real, ...chased.missing.slice(0, i + 1)));
    const real = missing.at(-1) ?? chased.real;
    refuseSystemPath(target, real);
    if (missing.length > 0) return { target, path, real, missing, current: undefined, hasGitignore: false };
    const found = chased.stat;
    const hasGitignore = lstatSync(`${viaHandle(chased.fd)}/.gitignore`, { throwIfNoEntry: false }) !== undefined;
    return { target, path, real, missing, current: { uid: found.uid, gid: found.gid, mode: found.mode & 0o7777 }, hasGitignore };
  } finally {
    closeSync(chased.fd);
  }
}
