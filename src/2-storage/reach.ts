// Whether the proxy's user can reach HLS_TEMP_DIR through every ancestor and write to it, read from the modes on the way.
//
// Checked as the kernel checks a path for that user: search permission on each directory from /
// down, then write and search on HLS_TEMP_DIR, each decided by the owner, group or other bits
// that apply to the user's uid, gid and supplementary groups. POSIX ACLs are not read.

import { statSync, type Stats } from 'node:fs';
import { describeInode } from '../5-exec/walk.ts';

/** The user whose access is checked: its uid, its primary and supplementary groups, and how to name it. */
export interface ProxyUser {
  readonly uid: number;
  readonly gids: readonly number[];
  readonly label: string;
}

const SEARCH = 1;
const WRITE = 2;

/** The owner, group and mode of an entry: all that decides access here. */
export type Access = Pick<Stats, 'uid' | 'gid' | 'mode'>;

/** Whether `who` holds every bit of `bits` (4 read, 2 write, 1 search) on an entry with `st`'s owner, group and mode. */
export function permits(st: Access, who: ProxyUser, bits: number): boolean {
  // Root passes any directory's permission bits.
  if (who.uid === 0) return true;
  const shift = st.uid === who.uid ? 6 : who.gids.includes(st.gid) ? 3 : 0;
  return ((st.mode >> shift) & bits) === bits;
}

/**
 * What keeps `who` from reaching directory `real` (an absolute path without links, such as the
 * kernel's own name for it) and writing to it, or undefined when nothing does.
 */
export function reachProblem(real: string, who: ProxyUser, stat: (path: string) => Access = (path) => statSync(path)): string | undefined {
  const names = real.split('/').filter(Boolean);
  for (let depth = 0; depth < names.length; depth++) {
    const ancestor = `/${names.slice(0, depth).join('/')}`;
    const st = stat(ancestor);
    if (!permits(st, who, SEARCH)) return `${who.label} cannot reach it: ${ancestor} is ${describeInode(st)}, without search permission for it`;
  }
  const st = stat(real);
  if (!permits(st, who, WRITE | SEARCH)) return `${who.label} cannot write to it: it is ${describeInode(st)}`;
  return undefined;
}
