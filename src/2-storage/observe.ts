// Looks at a directory to prepare (HLS_TEMP_DIR, HLS_BROADCAST_DIR) without changing anything: what exists, what is missing, where links lead.

import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { systemPathProblem } from '../1-config/parse.ts';
import { BootstrapError, EXIT, errnoCode, reason } from '../errors.ts';

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

function cannot(target: Target, what: string): BootstrapError {
  return new BootstrapError(EXIT.STORAGE, `cannot prepare ${target.variable} ${target.path}: ${what}`);
}

/** Refuses a directory whose links lead to a system directory (exit 78). */
export function refuseSystemPath(target: Target, real: string): void {
  if (real === target.path) return;
  const problem = systemPathProblem(real);
  if (problem !== undefined) {
    throw new BootstrapError(EXIT.CONFIG, `${target.variable}=${JSON.stringify(target.path)} is not valid: through symbolic links it is ${real}, and ${problem}`);
  }
}

/** Observes `target`. Throws 73 when a file blocks it, 78 when links lead to a system directory. */
export function observe(target: Target): Observation {
  const { path } = target;
  const missing: string[] = [];
  let existing = path;
  let found: Stats;
  for (;;) {
    try {
      found = statSync(existing);
      if (!found.isDirectory()) throw cannot(target, `${existing} exists and is not a directory`);
      break;
    } catch (error) {
      if (error instanceof BootstrapError) throw error;
      // ENOTDIR: a file stands where a directory should; going up finds it and says so.
      const code = errnoCode(error);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw cannot(target, `${existing}: ${reason(error)}`);
      missing.unshift(existing);
      existing = posix.dirname(existing);
    }
  }
  const resolved = realpathSync(existing);
  const real = missing.length === 0 ? resolved : posix.join(resolved, posix.relative(existing, path));
  refuseSystemPath(target, real);
  if (missing.length > 0) return { target, path, real, missing, current: undefined, hasGitignore: false };

  let hasGitignore = true;
  try {
    lstatSync(posix.join(path, '.gitignore'));
  } catch {
    hasGitignore = false;
  }
  return { target, path, real, missing, current: { uid: found.uid, gid: found.gid, mode: found.mode & 0o7777 }, hasGitignore };
}
