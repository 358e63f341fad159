// Writes a file atomically: a temporary file in the same directory, flushed, then renamed over the target.

import { closeSync, constants, fchmodSync, fstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BootstrapError, EXIT, reason } from '../errors.ts';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/** Replaces `path` with `text` at `mode`; a reader sees the old file or the new one, never a part. Exit 73 on failure. */
export function writeAtomic(path: string, text: string, mode: number, what: string): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
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
