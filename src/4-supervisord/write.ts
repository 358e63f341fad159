// Writes a file atomically: a temporary file in the same directory, flushed, then renamed over the target.

import { closeSync, constants, fchmodSync, fstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BootstrapError, EXIT, reason } from '../errors.ts';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/** NAME_MAX: the longest name, in bytes, that Linux filesystems take. */
const NAME_MAX = 255;

/**
 * A hidden temporary name beside `path` that fits in NAME_MAX bytes: the target's own name, cut
 * short when it must be (never inside a UTF-8 sequence), then this process's id and the time.
 */
export function temporaryName(path: string, pid: number, now: number): string {
  const suffix = `.${pid}.${now.toString(36)}.tmp`;
  const name = Buffer.from(basename(path));
  let cut = Math.min(name.length, NAME_MAX - 1 - suffix.length);
  while (cut > 0 && cut < name.length && ((name[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return join(dirname(path), `.${name.subarray(0, cut).toString()}${suffix}`);
}

/**
 * Replaces `path` with `text` at `mode`; a reader sees the old file or the new one, never a part.
 * Exit 73 on failure, and nothing is left behind: a full disk leaves no partial temporary file.
 */
export function writeAtomic(path: string, text: string, mode: number, what: string): void {
  const temporary = temporaryName(path, process.pid, Date.now());
  let fd: number | undefined;
  try {
    // O_EXCL and O_NOFOLLOW: a planted file or link by that name is refused, never written through.
    fd = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
    // The umask may have changed the mode (rarely), and a secret must not wait for a rename to be private.
    if ((fstatSync(fd).mode & 0o7777) !== mode) fchmodSync(fd, mode);
    const bytes = Buffer.from(text);
    for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset);
    // No fsync: the rename already keeps readers from a partial file, and the file is rendered
    // afresh at every start, so after a power loss the next start writes it again.
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temporary);
    } catch {
      // Never created, or already renamed.
    }
    throw new BootstrapError(EXIT.STORAGE, `cannot write ${what} ${path}: ${reason(error)}`, { cause: error });
  }
}
