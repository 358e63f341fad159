// Handles on directory entries: opened without following a link, checked with fstat, changed through the handle.
//
// Node has no openat, fchownat or fchdir, but it passes open flags through and every call that
// needs a path can be given /proc/self/fd/N, which reaches what the handle holds, whatever has
// since been renamed, removed or planted under its name. This is how systemd-tmpfiles changes
// what it examined and nothing else.

import { chownSync, closeSync, constants, fstatSync, openSync, type Stats } from 'node:fs';
import type { Name } from './names.ts';

/** Linux's O_PATH (the same value on x86_64 and arm64): a handle that opens nothing, so a device or FIFO planted here does nothing. */
export const O_PATH = 0o10000000;
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, S_IFMT } = constants;

/** The path that reaches exactly what handle `fd` holds. */
export function viaHandle(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/** What identifies an entry as examined: its device, inode and type. */
export type Identity = Pick<Stats, 'dev' | 'ino' | 'mode'>;

/** Whether `now` is still the entry `examined` describes: same device, inode and type. */
export function sameEntry(now: Identity, examined: Identity): boolean {
  return now.dev === examined.dev && now.ino === examined.ino && (now.mode & S_IFMT) === (examined.mode & S_IFMT);
}

/** Opens directory `name` of the working directory for reading; a link in its place is refused (ELOOP, ENOTDIR). */
export function openDirectory(name: Name): number {
  return openSync(name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
}

/** Makes the directory `fd` holds the working directory: the handle decides where, never a name. */
export function enterHandle(fd: number): void {
  process.chdir(viaHandle(fd));
}

/** What `changeVerified` found when it looked through its handle. */
export type Verified = 'changed' | 'not-the-same' | 'linked';

/**
 * Re-owns entry `name` of the working directory only if the handle opened on it is the entry
 * `examined` describes, a non-directory still with one link: one more name could be outside.
 */
export function chownVerified(name: Name, examined: Identity, uid: number, gid: number): Verified {
  const fd = openSync(name, O_PATH | O_NOFOLLOW);
  try {
    const now = fstatSync(fd);
    if (!sameEntry(now, examined)) return 'not-the-same';
    if ((now.mode & S_IFMT) !== constants.S_IFDIR && now.nlink !== 1) return 'linked';
    // fchown refuses an O_PATH handle (EBADF); the kernel's own name for it does not.
    chownSync(viaHandle(fd), uid, gid);
    return 'changed';
  } finally {
    closeSync(fd);
  }
}

/** Whether this process may give files away (CAP_CHOWN): without it, every refusal is the same refusal. */
export function canChown(read: () => string): boolean {
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(read());
  // CAP_CHOWN is capability 0.
  return line?.[1] !== undefined && (BigInt(`0x${line[1]}`) & 1n) === 1n;
}
