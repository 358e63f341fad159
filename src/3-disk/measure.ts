// Measures the space an unprivileged writer has on the filesystem that holds a path, with check-disk-space.

import { resolve } from 'node:path';
import { reason } from '../errors.ts';

export interface DiskSpace {
  /** The path asked about, made absolute. */
  readonly path: string;
  /** Bytes available to an unprivileged writer (df's "Available"), and the filesystem's size. */
  readonly free: number;
  readonly total: number;
}

/** Thrown when the space cannot be measured, with a one-line reason. */
export class Unmeasurable extends Error {}

type CheckDiskSpace = (path: string) => Promise<{ free: number; size: number }>;

/**
 * Measures the filesystem of `path`, or of its nearest existing parent when it does not exist
 * yet (check-disk-space runs `df -Pk` there).
 */
export async function measure(path: string, cwd: string): Promise<DiskSpace> {
  const absolute = resolve(cwd, path);
  try {
    // Loaded here, not at start-up: it brings node:fs/promises and child_process, and with them
    // net, readline and the stream modules. Its types describe its CommonJS build as if it were
    // ESM, so TypeScript sees the module object where Node and the bundler give the function.
    const checkDiskSpace = (await import('check-disk-space')).default as unknown as CheckDiskSpace;
    const { free, size } = await checkDiskSpace(absolute);
    if (!Number.isFinite(free) || !Number.isFinite(size)) throw new Error('df printed no figures');
    return { path: absolute, free, total: size };
  } catch (error) {
    throw new Unmeasurable(`cannot measure the disk space of ${absolute}: ${reason(error).trim()}`, { cause: error });
  }
}
