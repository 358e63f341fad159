// Finds a command the way execvp does: a name with a slash is a path, anything else is looked up on PATH.

import { accessSync, constants, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** A candidate's verdict: usable, absent (search on), or there but unusable (remembered, search on). */
export type Judgement = { readonly ok: true } | { readonly ok: false; readonly absent: boolean; readonly reason: string };

export type Found =
  | { readonly found: true; readonly path: string }
  /** `path` and `reason`: the first candidate that was there but could not be used. */
  | { readonly found: false; readonly missing: 'not-found' | 'not-executable'; readonly path?: string; readonly reason?: string };

/** This process may execute `path`: a regular file with access(X_OK). */
function accessible(path: string): Judgement {
  try {
    if (!statSync(path).isFile()) return { ok: false, absent: false, reason: 'it is not a regular file' };
  } catch {
    return { ok: false, absent: true, reason: `${path} does not exist` };
  }
  try {
    accessSync(path, constants.X_OK);
    return { ok: true };
  } catch {
    return { ok: false, absent: false, reason: 'permission denied' };
  }
}

/**
 * Resolves `command` against `PATH` (an empty entry is the working directory, as in execvp),
 * taking the first candidate `judge` accepts. An empty command is found nowhere, as execve
 * finds no file named "". A candidate that is there but unusable is reported when no later one
 * is found, so that the caller can say 126, not 127.
 */
export function which(command: string, path: string | undefined, cwd: string, judge: (file: string) => Judgement = accessible): Found {
  if (command === '') return { found: false, missing: 'not-found' };
  // A trailing slash asks for a directory, which execve refuses: keep it for the judge to see.
  const candidates = command.includes('/') ? [resolve(cwd, command) + (/[^/]\/+$/.test(command) ? '/' : '')]
    : (path ?? '/usr/local/bin:/usr/bin:/bin').split(':').map((dir) => resolve(cwd, join(dir === '' ? '.' : dir, command)));
  let unusable: { path: string; reason: string } | undefined;
  let absent: string | undefined;
  for (const candidate of candidates) {
    const judged = judge(candidate);
    if (judged.ok) return { found: true, path: candidate };
    if (!judged.absent) unusable ??= { path: candidate, reason: judged.reason };
    else absent ??= judged.reason;
  }
  if (unusable !== undefined) return { found: false, missing: 'not-executable', ...unusable };
  return command.includes('/') && absent !== undefined ? { found: false, missing: 'not-found', reason: absent } : { found: false, missing: 'not-found' };
}
