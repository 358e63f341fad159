// Which mount a path lies on, from /proc/self/mountinfo, and whether it forbids exec (noexec).

import { readFileSync } from 'node:fs';

export interface Mount {
  /** Where it is mounted, unescaped. */
  readonly point: string;
  /** The per-mount options (rw, nosuid, noexec, ...), not the filesystem's own. */
  readonly options: readonly string[];
}

/** The kernel escapes space, tab, newline and backslash in mountinfo as \040, \011, \012 and \134. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Parses proc(5) mountinfo: "id parent major:minor root point options [optional...] - type source super-options". */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const point = fields[4];
    const options = fields[5];
    if (point !== undefined && options !== undefined) mounts.push({ point: unescape(point), options: options.split(',') });
  }
  return mounts;
}

/** Whether `dir` is `path` or one of its ancestors. */
function contains(dir: string, path: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * The mount that `path` (absolute, every link resolved) lies on. mountinfo lists mounts in the
 * order they were made, so the last one whose point contains the path is the one in effect: a
 * later mount either lies deeper, or covers an ancestor and so hides the earlier one.
 */
export function mountOf(path: string, mounts: readonly Mount[]): Mount | undefined {
  return mounts.findLast((mount) => contains(mount.point, path));
}

/** Reads this process's mount table once; undefined where /proc is not mounted. */
export function readMounts(): readonly Mount[] | undefined {
  try {
    return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return undefined;
  }
}

/** The mount point of the noexec mount that `path` lies on, if it does. */
export function noexecMount(path: string, mounts: readonly Mount[] | undefined): string | undefined {
  const mount = mounts === undefined ? undefined : mountOf(path, mounts);
  return mount?.options.includes('noexec') === true ? mount.point : undefined;
}
