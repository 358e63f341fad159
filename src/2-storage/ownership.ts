// Re-owns what is not already right inside HLS_TEMP_DIR, and never anything a link could lead outside it.

import { closeSync, constants, fchownSync, fstatSync, lchownSync, openSync, readFileSync, type Stats } from 'node:fs';
import { errnoCode } from '../errors.ts';
import { withinJob, type Counts, type Job, type Task } from './jobs.ts';
import { Walk, type DirId, type Visitor } from './tree.ts';

const { S_IFMT, S_IFLNK, S_IFDIR, S_IFCHR, S_IFBLK, O_RDONLY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;

/** How many hard-linked files the report names; the rest are only counted. */
const NAMED_HARDLINKS = 10;

/** What an ownership walk found and did; every field sums across helper processes. */
export interface OwnershipCounts {
  checked: number;
  reowned: number;
  /** Symbolic links: left alone, never followed. */
  symlinks: number;
  /** Non-directories with more than one link: one of them may be outside, so they are left alone. */
  hardlinks: number;
  hardlinkPaths: string[];
  /** Mount points of other filesystems: not descended into. */
  otherFilesystem: number;
  /** Device nodes: giving one away would give the device. */
  devices: number;
  /** Names that are not valid UTF-8, which Node cannot name exactly. */
  undecodable: number;
  /** Entries removed while the walk ran. */
  vanished: number;
  /** Directories that could not be entered or listed. */
  unreadable: number;
}

export function emptyOwnershipCounts(): OwnershipCounts {
  return { checked: 0, reowned: 0, symlinks: 0, hardlinks: 0, hardlinkPaths: [], otherFilesystem: 0, devices: 0,
    undecodable: 0, vanished: 0, unreadable: 0 };
}

/** Re-owning was refused by the kernel: not root, and not allowed to give files away. */
export class NotPermitted extends Error {}

/**
 * Whether the kernel refuses hard links to files the linker does not own (fs.protected_hardlinks=1).
 * Then no one but root can swap an entry for a link to an outside file between examining and
 * re-owning it, and re-owning by name is safe; otherwise each entry is opened and checked first.
 */
export function hardlinksProtected(read = (path: string) => readFileSync(path, 'utf8')): boolean {
  try {
    return read('/proc/sys/fs/protected_hardlinks').trim() === '1';
  } catch {
    return false;
  }
}

export interface OwnershipOptions {
  readonly uid: number;
  readonly gid: number;
  /** The filesystem of HLS_TEMP_DIR: entries on another one are not touched. */
  readonly dev: number;
  /** False for --dry-run: count what would change, change nothing. */
  readonly apply: boolean;
  /** Known already, or read on the first re-own: a walk that changes nothing never needs it. */
  readonly hardlinksProtected?: boolean;
}

/** Changes the owner of `name` only if it is still the entry `stat` describes, with one link. */
function chownVerified(name: string, stat: Stats, uid: number, gid: number): boolean {
  const fd = openSync(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  try {
    const now = fstatSync(fd);
    if (now.dev !== stat.dev || now.ino !== stat.ino || (!now.isDirectory() && now.nlink > 1)) return false;
    fchownSync(fd, uid, gid);
    return true;
  } finally {
    closeSync(fd);
  }
}

/** The visitor that re-owns entries; `counts` says what it did. */
export class Ownership implements Visitor {
  readonly counts = emptyOwnershipCounts();
  private readonly options: OwnershipOptions;
  private protectedLinks: boolean | undefined;

  constructor(options: OwnershipOptions) {
    this.options = options;
    this.protectedLinks = options.hardlinksProtected;
  }

  visit(name: string, stat: Stats, walk: Walk): boolean {
    const { uid, gid, dev } = this.options;
    const counts = this.counts;
    counts.checked++;
    const type = stat.mode & S_IFMT;
    if (type === S_IFLNK) {
      counts.symlinks++;
      return false;
    }
    if (stat.dev !== dev) {
      counts.otherFilesystem++;
      return false;
    }
    // Node reads names as UTF-8; U+FFFD means the name on disk is something else.
    if (name.includes('\uFFFD')) {
      counts.undecodable++;
      return false;
    }
    if (type === S_IFCHR || type === S_IFBLK) {
      counts.devices++;
      return false;
    }
    const directory = type === S_IFDIR;
    if (stat.uid === uid && stat.gid === gid) return directory;
    if (!directory && stat.nlink > 1) {
      counts.hardlinks++;
      if (counts.hardlinkPaths.length < NAMED_HARDLINKS) counts.hardlinkPaths.push(walk.path(name));
      return false;
    }
    if (this.options.apply && !this.chown(name, stat)) return directory;
    counts.reowned++;
    return directory;
  }

  vanished(): void {
    this.counts.vanished++;
  }

  unreadable(): void {
    this.counts.unreadable++;
  }

  /** Re-owns one entry; false if it changed under the walk and was left alone. */
  private chown(name: string, stat: Stats): boolean {
    const { uid, gid } = this.options;
    try {
      this.protectedLinks ??= hardlinksProtected();
      if (this.protectedLinks) {
        lchownSync(name, uid, gid);
        return true;
      }
      return chownVerified(name, stat, uid, gid);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT') {
        this.counts.vanished++;
        return false;
      }
      if (code === 'EPERM') throw new NotPermitted(`not permitted to give ${name} to ${uid}:${gid}`, { cause: error });
      // A FIFO or socket cannot be opened to be checked: it stays as it is.
      if (code === 'ENXIO' || code === 'ELOOP') return false;
      throw error;
    }
  }
}

/** The ownership walk of one top-level directory at a time, here or in a helper process. */
export class OwnershipTask implements Task<OwnershipCounts & Counts> {
  readonly visitor: Ownership;
  readonly counts: OwnershipCounts & Counts;

  constructor(options: OwnershipOptions) {
    this.visitor = new Ownership(options);
    this.counts = this.visitor.counts as OwnershipCounts & Counts;
  }

  runJob(j: Job, root: DirId): void {
    try {
      withinJob(j, root, (id) => {
        new Walk(j.name).run(id, this.visitor);
      });
    } catch (error) {
      // Entering the job's directory failed, so the walk is still at the root.
      const code = errnoCode(error);
      if (code === 'ENOENT') this.visitor.vanished();
      else if (code === 'EACCES') this.visitor.unreadable();
      else throw error;
    }
  }
}
