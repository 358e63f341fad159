// The directory itself (HLS_TEMP_DIR, HLS_BROADCAST_DIR): its missing parents created 0755 whatever the umask, entered by handle, owned, given a .gitignore.

import { chmodSync, chownSync, closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { BootstrapError, errnoCode } from '../errors.ts';
import { listNames, showReason, type Name } from './names.ts';
import { chase, NotADirectory, UnsafeLink, type Chased } from './chase.ts';
import { O_PATH, enterHandle, sameEntry, viaHandle } from './handles.ts';
import { cannot, refuseSystemPath, type Target } from './observe.ts';
import { GITIGNORE, type StoragePlan } from './plan.ts';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = constants;

/** The directory as the walk holds it: a handle, what it was when opened, and the kernel's path for it. */
export interface Home {
  readonly fd: number;
  readonly stat: Stats;
  readonly real: string;
}

export function storageError(target: Target, what: string, error: unknown): BootstrapError {
  return cannot(target, `${what}: ${showReason(error)}`, error);
}

/** What the directory holds (the working directory): one that cannot be listed cannot be prepared (exit 73). */
export function listTop(target: Target): Name[] {
  try {
    return listNames();
  } catch (error) {
    throw storageError(target, 'cannot list it', error);
  }
}

/** Follows the target's path as chase.ts does, naming the target in what it throws. */
function chaseTarget(target: Target, euid: number): Chased {
  try {
    return chase(target.path, euid);
  } catch (error) {
    if (error instanceof UnsafeLink || error instanceof NotADirectory) throw storageError(target, 'on the way to it', error);
    throw storageError(target, 'cannot reach it', error);
  }
}

/**
 * Creates the directories the path lacks, outermost first, each in the handle of the one before
 * (a link swapped in for one of them since is never followed); those it creates get 0755, whatever
 * the umask. Returns them.
 */
export function createMissing(plan: StoragePlan, euid: number): string[] {
  if (plan.create.length === 0) return [];
  const chased = chaseTarget(plan.target, euid);
  const created: string[] = [];
  let parent = chased.fd;
  let path = chased.real;
  try {
    for (const name of chased.missing) {
      path = posix.join(path, name);
      const at = `${viaHandle(parent)}/${name}`;
      let made = true;
      try {
        mkdirSync(at, 0o755);
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw storageError(plan.target, `cannot create ${path}`, error);
        made = false;
      }
      let fd: number;
      try {
        fd = openSync(at, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      } catch (error) {
        // Another process put something else there since it was looked at: a link is not followed.
        throw storageError(plan.target, `cannot create ${path}`, error);
      }
      closeSync(parent);
      parent = fd;
      if (!made) continue;
      created.push(path);
      // umask 077 would leave it 0700 root, which the proxy's user cannot pass through.
      try {
        if ((fstatSync(fd).mode & 0o7777) !== 0o755) fchmodSync(fd, 0o755);
      } catch (error) {
        throw storageError(plan.target, `cannot set the mode of ${path}`, error);
      }
    }
  } finally {
    closeSync(parent);
  }
  return created;
}

/** Goes back to the working directory `back` held, and closes it. */
function goBack(target: Target, back: number): void {
  try {
    enterHandle(back);
  } catch (error) {
    throw storageError(target, 'cannot go back to the working directory', error);
  } finally {
    closeSync(back);
  }
}

/** `body`, run in the directory entered through `fd`, which is checked once more and closed afterwards. */
async function inside<T>(target: Target, fd: number, body: (home: Home) => Promise<T>): Promise<T> {
  try {
    try {
      // Entering needs search permission only, as chdir does.
      enterHandle(fd);
    } catch (error) {
      throw storageError(target, 'cannot enter it', error);
    }
    const real = process.cwd();
    refuseSystemPath(target, real);
    return await body({ fd, stat: fstatSync(fd), real });
  } catch (error) {
    // What one entry's failure costs is counted where it happens; one that gets here is the directory's own.
    if (errnoCode(error) !== undefined && !(error instanceof BootstrapError)) throw storageError(target, 'cannot go on in it', error);
    throw error;
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs `body` inside the directory, entered through a handle found as chase.ts finds it, whose
 * real path is checked once more (the kernel's own name for it). The working directory is put
 * back afterwards, through a handle too.
 */
export async function withinDir<T>(target: Target, euid: number, body: (home: Home) => Promise<T>): Promise<T> {
  const back = openSync('.', O_PATH | O_DIRECTORY);
  try {
    const chased = chaseTarget(target, euid);
    if (chased.missing.length > 0) {
      closeSync(chased.fd);
      throw cannot(target, 'it does not exist');
    }
    return await inside(target, chased.fd, body);
  } finally {
    goBack(target, back);
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
    return `could not write .gitignore: ${showReason(error)}`;
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
    return `could not write .gitignore: ${showReason(error)}; nothing was left, the next start writes it`;
  } finally {
    closeSync(fd);
  }
}
