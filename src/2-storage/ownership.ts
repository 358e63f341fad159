// Re-owns what is not already right inside HLS_TEMP_DIR, through handles checked to be what was examined.

import { constants, fchownSync, lchownSync, lstatSync, readFileSync, type Stats } from 'node:fs';
import { errnoCode } from '../errors.ts';
import { canChown, chownVerified } from './handles.ts';
import { name, type Counts, type Job, type Place, type Task } from './jobs.ts';
import type { LockState } from './lock.ts';
import { showReason, type Name } from './names.ts';
import { emptyOwnershipCounts, type OwnershipCounts } from './ownership-counts.ts';
import { Walk, type Frame, type Skip, type Visitor } from './tree.ts';

const { S_IFMT, S_IFLNK, S_IFDIR, S_IFCHR, S_IFBLK } = constants;

export type { OwnershipCounts } from './ownership-counts.ts';

/**
 * Whether only root can add, rename or remove names in a directory: root owns it and neither its
 * group nor others may write it (an ACL's named entries need the group bits' write too). Then no
 * name in it can change between the walk's lstat and its lchown, so the name is as safe as a
 * handle, at two system calls instead of five; directories are re-owned only as the walk leaves
 * them, so this holds while their entries are re-owned, and another start walking the same tree
 * does not give them away meanwhile: see lock.ts.
 */
function rootOnly(dir: Stats): boolean {
  return dir.uid === 0 && (dir.mode & 0o022) === 0;
}

const PATHS = { vanished: 'vanishedPaths', unreadable: 'unreadablePaths', changed: 'changedPaths' } as const;

/** Re-owning is refused for every entry alike (no CAP_CHOWN, a read-only filesystem, an unmapped id): the walk stops. */
export class NotPermitted extends Error {}

export interface OwnershipOptions {
  readonly uid: number;
  readonly gid: number;
  /** The filesystem of HLS_TEMP_DIR: entries on another one are not touched. */
  readonly dev: number;
  /** False for --dry-run: count what would change, change nothing. */
  readonly apply: boolean;
  /** "dev:ino" of files mounted inside (bind mounts of one file keep their source's device). */
  readonly fileMounts?: readonly string[];
  /** In a helper: the lock on HLS_TEMP_DIR as the process that started it found it. */
  readonly lock?: LockState;
}

/** The visitor that re-owns entries; `counts` says what it did. */
export class Ownership implements Visitor {
  readonly counts = emptyOwnershipCounts();
  private readonly options: OwnershipOptions;
  private readonly fileMounts: ReadonlySet<string>;
  private readonly status: () => string;
  private readonly lock: () => LockState;
  private capable: boolean | undefined;

  /**
   * `lock`: whether this walk holds HLS_TEMP_DIR's lock, asked when a directory only root can write
   * first needs a change. `status`: /proc/self/status, read on the first refusal to tell one refused
   * entry from a refusal of all.
   */
  constructor(options: OwnershipOptions, lock: () => LockState = () => options.lock ?? 'none', status = () => readFileSync('/proc/self/status', 'utf8')) {
    this.options = options;
    this.fileMounts = new Set(options.fileMounts);
    this.lock = lock;
    this.status = status;
  }

  visit(entry: Name, walk: Walk): Stats | undefined {
    const stat = this.look(entry, walk);
    return stat !== undefined && this.examine(entry, stat, walk) ? stat : undefined;
  }

  /** lstat of entry `entry` of the working directory; undefined, counted and named, when it fails. */
  look(entry: Name, walk: Walk): Stats | undefined {
    try {
      return lstatSync(entry);
    } catch (error) {
      this.failed(walk.path(entry), error);
      return undefined;
    }
  }

  /** Counts one examined entry of the working directory and re-owns it if it differs; true for a directory to walk into. */
  examine(entry: Name, stat: Stats, walk: Walk): boolean {
    const { uid, gid, dev, apply } = this.options;
    const c = this.counts;
    c.checked++;
    const type = stat.mode & S_IFMT;
    if (type === S_IFLNK) c.symlinks++;
    else if (stat.dev !== dev || (this.fileMounts.size > 0 && type !== S_IFDIR && this.fileMounts.has(`${stat.dev}:${stat.ino}`))) c.otherFilesystem++;
    else if (type === S_IFCHR || type === S_IFBLK) c.devices++;
    // A directory is re-owned through the handle the walk opens on it, as it leaves it.
    else if (type === S_IFDIR) return true;
    else if (stat.uid === uid && stat.gid === gid) return false;
    else if (stat.nlink > 1) {
      c.hardlinks++;
      name(c.hardlinkPaths, walk.path(entry));
    } else if (!apply) c.reowned++;
    else this.reown(entry, stat, walk);
    return false;
  }

  left(frame: Frame, walk: Walk): void {
    const { uid, gid, apply } = this.options;
    if (frame.stat.uid === uid && frame.stat.gid === gid) return;
    // Given to a user, it would let that user swap names under the start that holds the lock, if it is in there.
    if (apply && uid !== 0 && rootOnly(frame.stat) && this.lock() === 'busy') {
      this.counts.busy++;
      name(this.counts.busyPaths, walk.path(frame.name));
      return;
    }
    try {
      if (apply) fchownSync(frame.fd, uid, gid);
      this.counts.reowned++;
    } catch (error) {
      this.failed(walk.path(frame.name), error);
    }
  }

  skipped(path: string, why: Skip, error?: unknown): void {
    if (why === 'mount') {
      this.counts.otherFilesystem++;
      return;
    }
    this.counts[why]++;
    name(this.counts[PATHS[why]], why === 'unreadable' && error !== undefined ? `${path}: ${showReason(error)}` : path);
  }

  private reown(entry: Name, stat: Stats, walk: Walk): void {
    const c = this.counts;
    try {
      if (rootOnly(walk.here()) && this.lock() === 'held') {
        lchownSync(entry, this.options.uid, this.options.gid);
        c.reowned++;
        return;
      }
      const verified = chownVerified(entry, stat, this.options.uid, this.options.gid);
      if (verified === 'changed') c.reowned++;
      else if (verified === 'linked') {
        c.hardlinks++;
        name(c.hardlinkPaths, walk.path(entry));
      } else this.skipped(walk.path(entry), 'changed');
    } catch (error) {
      this.failed(walk.path(entry), error);
    }
  }

  /** One entry could not be examined or re-owned: counted and named, unless every entry would fail alike. */
  private failed(path: string, error: unknown): void {
    const { uid, gid } = this.options;
    const code = errnoCode(error);
    if (code === 'ENOENT') {
      this.skipped(path, 'vanished');
      return;
    }
    if (code === 'EPERM' && !(this.capable ??= this.mayChown())) throw new NotPermitted(`not permitted to give ${path} to ${uid}:${gid}`, { cause: error });
    if (code === 'EINVAL' || code === 'EROFS') throw new NotPermitted(`cannot give ${path} to ${uid}:${gid}: ${showReason(error)}`, { cause: error });
    this.counts.refused++;
    name(this.counts.refusedPaths, `${path}: ${showReason(error)}`);
  }

  private mayChown(): boolean {
    try {
      return canChown(this.status);
    } catch {
      return false;
    }
  }
}

/** The ownership walk of one top-level directory at a time, here or in a helper process. */
export class OwnershipTask implements Task<OwnershipCounts & Counts> {
  readonly visitor: Ownership;
  readonly counts: OwnershipCounts & Counts;

  constructor(options: OwnershipOptions, lock?: () => LockState) {
    this.visitor = new Ownership(options, lock);
    this.counts = this.visitor.counts as OwnershipCounts & Counts;
  }

  async runJob(j: Job, at: Place): Promise<void> {
    await new Walk(at).run(j.name, j.stat, this.visitor);
  }
}
