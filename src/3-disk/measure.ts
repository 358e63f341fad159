// Measures the space and inodes of the filesystem that holds a path, with statfs(2), as df does.

import { statfsSync, type BigIntStatsFs } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { errnoCode, reason } from '../errors.ts';

/** Free and total inodes, as the filesystem reports them. */
export interface Inodes {
  readonly free: number;
  readonly total: number;
}

export interface DiskSpace {
  /** The path asked about, made absolute. */
  readonly path: string;
  /** The path statfs read: `path` itself, or its nearest existing parent when `path` does not exist yet. */
  readonly measured: string;
  /** Bytes available to an unprivileged writer (df's "Available"), and the filesystem's size. */
  readonly free: number;
  readonly total: number;
  /** Undefined when the filesystem reports no inode figures (btrfs, some network filesystems, tmpfs with nr_inodes=0). */
  readonly inodes: Inodes | undefined;
}

/** Thrown when the filesystem cannot be measured, with a one-line reason. */
export class Unmeasurable extends Error {}

/** The figures of one statfs result, in bytes and inodes. */
export function figures(stats: BigIntStatsFs): Pick<DiskSpace, 'free' | 'total' | 'inodes'> {
  // Block counts are in units of the fragment size (POSIX statvfs); Node reports it from 24.x on, and
  // before that the block size, which Linux filesystems set to the same value.
  const unit = (stats as { frsize?: bigint }).frsize ?? stats.bsize;
  // A filesystem without inode figures reports 0, or a count of free inodes above the total (all ones).
  const inodes = stats.files > 0n && stats.ffree <= stats.files ? { free: Number(stats.ffree), total: Number(stats.files) } : undefined;
  return { free: Number(stats.bavail * unit), total: Number(stats.blocks * unit), inodes };
}

/**
 * Measures the filesystem of `path` (relative to `cwd`), or of its nearest existing parent when
 * it does not exist yet. Throws Unmeasurable with the reason when statfs fails otherwise.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- async, so that callers need not change if it ever waits
export async function measure(path: string, cwd: string): Promise<DiskSpace> {
  const absolute = resolve(cwd, path);
  let measured = absolute;
  for (;;) {
    try {
      // Synchronous, as every other step's file system calls: an asynchronous one would start libuv's
      // thread pool for this one call, a millisecond or two of every start.
      return { path: absolute, measured, ...figures(statfsSync(measured, { bigint: true })) };
    } catch (error) {
      const code = errnoCode(error);
      const parent = dirname(measured);
      // ENOTDIR: a file stands where a directory of the path would be; the file's filesystem is the one.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === measured) {
        throw new Unmeasurable(`cannot measure the filesystem of ${measured}: ${reason(error)}`, { cause: error });
      }
      measured = parent;
    }
  }
}
