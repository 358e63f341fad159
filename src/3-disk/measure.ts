// Measures the space and inodes of the filesystem that holds a path, with statfs(2), as df does.

import { statfs, statfsSync, type BigIntStatsFs } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { errnoCode, reason } from '../errors.ts';
import { fsCall } from '../fs-call.ts';

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

/** After statfs of `measured` failed: its parent to try next, or Unmeasurable with the reason. */
function parentAfter(error: unknown, measured: string): string {
  const code = errnoCode(error);
  const parent = dirname(measured);
  // ENOTDIR: a file stands where a directory of the path would be; the file's filesystem is the one.
  if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === measured) {
    throw new Unmeasurable(`cannot measure the filesystem of ${measured}: ${reason(error)}`, { cause: error });
  }
  return parent;
}

/**
 * Measures the filesystem of `path` (relative to `cwd`), or of its nearest existing parent when
 * it does not exist yet. Throws Unmeasurable with the reason when statfs fails otherwise.
 * statfs waits in libuv's thread pool: a hung network filesystem must not keep the start from
 * hearing a stop (the step is abandoned, as PID 1 too).
 */
export async function measure(path: string, cwd: string): Promise<DiskSpace> {
  const absolute = resolve(cwd, path);
  for (let measured = absolute; ;) {
    try {
      const stats = await fsCall<BigIntStatsFs>((done) => {
        statfs(measured, { bigint: true }, done);
      });
      return { path: absolute, measured, ...figures(stats) };
    } catch (error) {
      measured = parentAfter(error, measured);
    }
  }
}

/**
 * measure() without the thread pool, for check-disk: a one-shot process that a health check's
 * timeout ends, where starting four threads for one call would be a tenth of its time.
 */
export function measureNow(path: string, cwd: string): DiskSpace {
  const absolute = resolve(cwd, path);
  for (let measured = absolute; ;) {
    try {
      return { path: absolute, measured, ...figures(statfsSync(measured, { bigint: true })) };
    } catch (error) {
      measured = parentAfter(error, measured);
    }
  }
}
