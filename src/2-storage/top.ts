// The directory itself (HLS_TEMP_DIR, HLS_BROADCAST_DIR): its missing parents created 0755 whatever the umask, entered by handle, owned, given a .gitignore.

import { chmodSync, chownSync, closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { BootstrapError, EXIT, errnoCode, reason } from '../errors.ts';
import { O_PATH, enterHandle, openDirectory, sameEntry, viaHandle } from './handles.ts';
import { refuseSystemPath, type Target } from './observe.ts';
import { GITIGNORE, type StoragePlan } from './plan.ts';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = constants;

/** The directory as the walk holds it: a handle, what it was when opened, and the kernel's path for it. */
export interface Home {
  readonly fd: number;
  readonly stat: Stats;
  readonly real: string;
}

export function storageError(target: Target, what: string, error: unknown): BootstrapError {
  return new BootstrapError(EXIT.STORAGE, `cannot prepare ${target.variable} ${target.path}: ${what}: ${reason(error)}`, { cause: error });
}

/** Creates the planned directories, outermost first; those it creates get 0755, whatever the umask. Returns them. */
export function createMissing(plan: StoragePlan): string[] {
  const created: string[] = [];
  for (const dir of plan.create) {
    try {
      mkdirSync(dir, 0o755);
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') continue;
      throw storageError(plan.target, `cannot create ${dir}`, error);
    }
    created.push(dir);
    // umask 077 would leave it 0700 root, which the proxy's user cannot pass through.
    try {
      const fd = openDirectory(dir);
      try {
        if ((fstatSync(fd).mode & 0o7777) !== 0o755) fchmodSync(fd, 0o755);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      throw storageError(plan.target, `cannot set the mode of ${dir}`, error);
    }
  }
  return created;
}

/**
 * Runs `body` inside the directory, entered through a handle whose real path is checked once more
 * (the kernel's own name for it: no link swapped in since can hide a system path). The working
 * directory is put back afterwards, through a handle too.
 */
export async function withinDir<T>(target: Target, body: (home: Home) => Promise<T>): Promise<T> {
  const back = openSync('.', O_PATH | O_DIRECTORY);
  let fd: number | undefined;
  try {
    try {
      // O_PATH: entering needs search permission only, as chdir does; a link as the directory itself is followed, as configured.
      fd = openSync(target.path, O_PATH | O_DIRECTORY);
      enterHandle(fd);
    } catch (error) {
      throw storageError(target, 'cannot enter it', error);
    }
    const real = process.cwd();
    refuseSystemPath(target, real);
    return await body({ fd, stat: fstatSync(fd), real });
  } finally {
    enterHandle(back);
    closeSync(back);
    if (fd !== undefined) closeSync(fd);
  }
}

/** Gives the directory itself its owner and mode, through its handle. */
export function chownHome(home: Home, uid: number, gid: number): void {
  chownSync(viaHandle(home.fd), uid, gid);
}

export function chmodHome(home: Home, mode: number): void {
  chmodSync(viaHandle(home.fd), mode);
}

/**
 * Writes .gitignore in the working directory (the directory prepared), owned by WWWUSER. A failure, such as
 * a full disk, leaves nothing behind and is a warning: the next start writes it. Returns whether
 * it wrote one, or the warning.
 */
export function writeGitignore(plan: StoragePlan): true | false | string {
  let fd: number;
  try {
    fd = openSync('.gitignore', O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  } catch (error) {
    // Something by that name appeared since the plan was made: it stays.
    if (errnoCode(error) === 'EEXIST' || errnoCode(error) === 'ELOOP') return false;
    return `could not write .gitignore: ${reason(error)}`;
  }
  const written = fstatSync(fd);
  try {
    const bytes = Buffer.from(GITIGNORE);
    for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset);
    if ((written.mode & 0o7777) !== 0o644) fchmodSync(fd, 0o644);
    try {
      fchownSync(fd, plan.owner.uid, plan.owner.gid);
    } catch (error) {
      if (errnoCode(error) !== 'EPERM') throw error;
    }
    return true;
  } catch (error) {
    // Only the file this opened goes: the directory's owner may have put another in its place.
    const now = lstatSync('.gitignore', { throwIfNoEntry: false });
    if (now !== undefined && sameEntry(now, written)) unlinkSync('.gitignore');
    return `could not write .gitignore: ${reason(error)}; nothing was left, the next start writes it`;
  } finally {
    closeSync(fd);
  }
}
