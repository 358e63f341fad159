// Looks at HLS_TEMP_DIR without changing anything: what exists, what is missing, where links lead.

import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { systemPathProblem } from '../1-config/parse.ts';
import { BootstrapError, EXIT, errnoCode, reason } from '../errors.ts';

/** The directory as it is now. */
export interface Observation {
  /** HLS_TEMP_DIR as configured. */
  readonly path: string;
  /** Where it really is: its existing part with every symlink resolved, then the missing rest. */
  readonly real: string;
  /** Directories to create, outermost first; empty when HLS_TEMP_DIR exists. */
  readonly missing: readonly string[];
  /** Owner, group and mode of HLS_TEMP_DIR, when it exists. */
  readonly current: { readonly uid: number; readonly gid: number; readonly mode: number } | undefined;
  /** Whether HLS_TEMP_DIR holds a .gitignore (or anything by that name). */
  readonly hasGitignore: boolean;
}

function cannot(path: string, what: string): BootstrapError {
  return new BootstrapError(EXIT.STORAGE, `cannot prepare HLS_TEMP_DIR ${path}: ${what}`);
}

/** Refuses a directory whose links lead to a system directory (exit 78). */
export function refuseSystemPath(path: string, real: string): void {
  if (real === path) return;
  const problem = systemPathProblem(real);
  if (problem !== undefined) {
    throw new BootstrapError(EXIT.CONFIG, `HLS_TEMP_DIR=${JSON.stringify(path)} is not valid: through symbolic links it is ${real}, and ${problem}`);
  }
}

/** Observes `path` (absolute, normalised). Throws 73 when a file blocks it, 78 when links lead to a system directory. */
export function observe(path: string): Observation {
  const missing: string[] = [];
  let existing = path;
  let found: Stats;
  for (;;) {
    try {
      found = statSync(existing);
      if (!found.isDirectory()) throw cannot(path, `${existing} exists and is not a directory`);
      break;
    } catch (error) {
      if (error instanceof BootstrapError) throw error;
      // ENOTDIR: a file stands where a directory should; going up finds it and says so.
      const code = errnoCode(error);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw cannot(path, `${existing}: ${reason(error)}`);
      missing.unshift(existing);
      existing = posix.dirname(existing);
    }
  }
  const resolved = realpathSync(existing);
  const real = missing.length === 0 ? resolved : posix.join(resolved, posix.relative(existing, path));
  refuseSystemPath(path, real);
  if (missing.length > 0) return { path, real, missing, current: undefined, hasGitignore: false };

  let hasGitignore = true;
  try {
    lstatSync(posix.join(path, '.gitignore'));
  } catch {
    hasGitignore = false;
  }
  return { path, real, missing, current: { uid: found.uid, gid: found.gid, mode: found.mode & 0o7777 }, hasGitignore };
}
