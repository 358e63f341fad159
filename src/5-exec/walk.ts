// Resolves a path the way the kernel does for execve, one component at a time, for another user's credentials.

import { lstatSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { errnoCode, reason } from '../errors.ts';
import { MAY_EXEC, permits, type Credentials } from './credentials.ts';

/** The kernel's limit on links followed while resolving one path (MAXSYMLINKS). */
const MAX_LINKS = 40;

export type Walked =
  | { readonly ok: true; readonly real: string; readonly stat: Stats }
  /** `absent`: nothing is there (ENOENT, ENOTDIR), as opposed to something there that cannot be used. */
  | { readonly ok: false; readonly absent: boolean; readonly reason: string };

/** fs.protected_symlinks: 1 when links in sticky world-writable directories are followed only for their owner. */
function protectedSymlinks(): boolean {
  try {
    return readFileSync('/proc/sys/fs/protected_symlinks', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** "mode 0750, owner 0:0", for messages. */
export function describeInode(stat: Pick<Stats, 'uid' | 'gid' | 'mode'>): string {
  return `mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}, owner ${stat.uid}:${stat.gid}`;
}

/**
 * Walks `path` (absolute) from /, checking at each directory that `cred` may search it, following
 * every link (the last one too, as execve does) with the kernel's limit and its protected_symlinks
 * rule, and returns the file reached and its real path. Nothing is opened: lstat and readlink only.
 */
export function walk(path: string, cred: Credentials): Walked {
  const pending = path.split('/').filter((name) => name !== '');
  // A trailing slash asks for a directory, as "." does.
  if (path.endsWith('/') && pending.length > 0) pending.push('.');
  const real: string[] = [];
  let dir = lstatSync('/');
  let links = 0;
  let guardLinks: boolean | undefined;
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    const here = `/${real.join('/')}`;
    if (!dir.isDirectory()) return { ok: false, absent: true, reason: `${here} is not a directory` };
    if (!permits(dir, cred, MAY_EXEC)) return { ok: false, absent: false, reason: `uid ${cred.uid} may not search the directory ${here} (${describeInode(dir)})` };
    if (name === '.' || name === '..') {
      if (name === '..') real.pop();
      dir = lstatSync(`/${real.join('/')}`);
      continue;
    }
    const full = `${here === '/' ? '' : here}/${name}`;
    let stat: Stats;
    try {
      stat = lstatSync(full);
    } catch (error) {
      const code = errnoCode(error);
      return { ok: false, absent: code === 'ENOENT' || code === 'ENOTDIR', reason: code === 'ENOENT' ? `${full} does not exist` : `${full}: ${reason(error)}` };
    }
    if (stat.isSymbolicLink()) {
      if (++links > MAX_LINKS) return { ok: false, absent: false, reason: `${path} has more than ${MAX_LINKS} symbolic links on the way (ELOOP)` };
      guardLinks ??= protectedSymlinks();
      // The kernel follows a link in a sticky world-writable directory (/tmp) only for its owner or the directory's.
      if (guardLinks && (dir.mode & 0o1002) === 0o1002 && stat.uid !== cred.uid && stat.uid !== dir.uid) {
        return { ok: false, absent: false, reason: `the link ${full} lies in a sticky world-writable directory and belongs to uid ${stat.uid}, so uid ${cred.uid} may not follow it (fs.protected_symlinks)` };
      }
      const target = readlinkSync(full);
      if (target.startsWith('/')) real.length = 0;
      pending.unshift(...target.split('/').filter((part) => part !== ''));
      dir = lstatSync(`/${real.join('/')}`);
      continue;
    }
    real.push(name);
    dir = stat;
  }
  return { ok: true, real: `/${real.join('/')}`, stat: dir };
}
