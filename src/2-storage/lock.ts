// One walk at a time may use names: an exclusive flock(2) on HLS_TEMP_DIR, taken when first needed.
//
// In a directory only root can write, the walk re-owns an entry by its name (two system calls
// instead of five), since nobody but root can swap that name between the lstat and the lchown.
// Another start walking the same tree at the same time (a second replica on the volume) is root
// too, though: it gives that directory to WWWUSER as it leaves it, while this walk may still be
// in it, and from then on WWWUSER can swap names. So a walk uses names only while it holds an
// exclusive lock on HLS_TEMP_DIR's inode, and a walk that cannot have it leaves the directories
// only root can write as they are, for the one that holds it. Node has no flock(); flock(1)
// (util-linux, busybox) takes the lock on a handle it inherits, and the lock stays with that
// open file description, this process's, after flock(1) has exited. The kernel drops it when
// the last process holding the description ends: no stale lock survives a crash.

import childProcess from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { viaHandle } from './handles.ts';

/** 'held': this walk may use names; 'busy': another walk holds the lock; 'none': no walk can take one (no flock(1), a filesystem without locks). */
export type LockState = 'held' | 'busy' | 'none';

/**
 * What runs flock(1): the exit status, or undefined when it could not run at all. busybox's exits
 * 1 both when -n finds the lock taken and, after a message, when flock(2) fails (a filesystem that
 * refuses it, as NFS does on a handle opened for reading): so a 1 that said something is a failure.
 */
export type RunFlock = (fd: number) => number | undefined;

const runFlock: RunFlock = (fd) => {
  // Run from /: the walk's working directory is one in the tree, which the proxy's user may write,
  // and execvp looks for flock there when PATH has an empty entry or '.' (a trailing colon).
  const result = childProcess.spawnSync('flock', ['-x', '-n', '3'], { cwd: '/', stdio: ['ignore', 'ignore', 'pipe', fd] });
  if (result.error !== undefined) return undefined;
  return result.status === 1 && result.stderr.length > 0 ? undefined : result.status ?? undefined;
};

/** The lock on HLS_TEMP_DIR (held by handle `home`), tried once, when a walk first needs to know. */
export class TreeLock {
  private readonly home: number;
  private readonly run: RunFlock;
  private state: LockState | undefined;
  private fd: number | undefined;

  constructor(home: number, run: RunFlock = runFlock) {
    this.home = home;
    this.run = run;
  }

  get(): LockState {
    if (this.state !== undefined) return this.state;
    try {
      // flock needs a handle that opens something: O_PATH will not do.
      this.fd = openSync(viaHandle(this.home), constants.O_RDONLY | constants.O_DIRECTORY);
    } catch {
      this.state = 'none';
      return this.state;
    }
    const status = this.run(this.fd);
    // flock(1) says 1 when -n finds the lock taken; anything else means no walk can take it here.
    this.state = status === 0 ? 'held' : status === 1 ? 'busy' : 'none';
    if (this.state !== 'held') this.release();
    return this.state;
  }

  /** The handle that holds the lock, for helpers to inherit: while one of them runs, so does the lock. */
  descriptor(): number | undefined {
    return this.state === 'held' ? this.fd : undefined;
  }

  release(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
