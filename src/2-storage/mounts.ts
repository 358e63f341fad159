// Mount points inside the tree, also of the same filesystem (a bind mount has the device of its source).
//
// A device number tells another filesystem apart, not a bind mount of a directory on the same one:
// the walk would re-own its source, and the sweep empty it. The kernel names each mount with an id,
// shown for every open handle in /proc/self/fdinfo; a directory whose id differs from its parent's
// is a mount point, whatever its device.

import { lstatSync, readFileSync } from 'node:fs';
import { parseMountinfo } from '../5-exec/mounts.ts';

/** The id of the mount that handle `fd` is on, or undefined where the kernel does not say (before Linux 3.15, no /proc). */
export function mountId(fd: number, read: (path: string) => string = (path) => readFileSync(path, 'latin1')): number | undefined {
  try {
    const match = /^mnt_id:\s*(\d+)$/m.exec(read(`/proc/self/fdinfo/${fd}`));
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** The mount points strictly inside directory `real` (a path without links), from `mountinfo`'s text. */
export function mountPointsInside(real: string, mountinfo: string): string[] {
  const prefix = real === '/' ? '/' : `${real}/`;
  return parseMountinfo(mountinfo).map((mount) => mount.point).filter((point) => point.startsWith(prefix) && point.length > prefix.length);
}

/**
 * Device and inode ("dev:ino") of each file (not directory) mounted inside `real`, as the walk's
 * lstat of it will see them: a handle cannot tell those apart at the cost of one lstat.
 */
export function fileMounts(real: string, read: () => string = () => readFileSync('/proc/self/mountinfo', 'latin1')): string[] {
  let text: string;
  try {
    text = read();
  } catch {
    return [];
  }
  const keys: string[] = [];
  // Read byte for byte, as latin1, so the path must be too.
  for (const point of mountPointsInside(Buffer.from(real).toString('latin1'), text)) {
    const stat = lstatSync(Buffer.from(point, 'latin1'), { throwIfNoEntry: false });
    if (stat !== undefined && !stat.isDirectory()) keys.push(`${stat.dev}:${stat.ino}`);
  }
  return keys;
}
