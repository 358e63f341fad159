// Finds a command the way execvp does: a name with a slash is a path, anything else is looked up on PATH.

import { accessSync, constants, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type Found =
  | { readonly found: true; readonly path: string }
  | { readonly found: false; readonly missing: 'not-found' | 'not-executable'; readonly path?: string };

function executable(path: string): 'yes' | 'no' | 'absent' {
  try {
    if (!statSync(path).isFile()) return 'no';
  } catch {
    return 'absent';
  }
  try {
    accessSync(path, constants.X_OK);
    return 'yes';
  } catch {
    return 'no';
  }
}

/**
 * Resolves `command` against `PATH` (an empty entry is the working directory, as in execvp).
 * Reports a file that exists but cannot be executed, so that the caller can say 126, not 127.
 */
export function which(command: string, path: string | undefined, cwd: string): Found {
  if (command.includes('/')) {
    const full = resolve(cwd, command);
    const state = executable(full);
    return state === 'yes' ? { found: true, path: full } : { found: false, missing: state === 'no' ? 'not-executable' : 'not-found', path: full };
  }
  let denied: string | undefined;
  for (const dir of (path ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const full = resolve(cwd, join(dir === '' ? '.' : dir, command));
    const state = executable(full);
    if (state === 'yes') return { found: true, path: full };
    if (state === 'no') denied ??= full;
  }
  return denied === undefined ? { found: false, missing: 'not-found' } : { found: false, missing: 'not-executable', path: denied };
}
