// Walks a directory tree from inside it, by handles: each directory is opened without following a
// link, checked to be the one examined, entered through its handle, and left through its parent's.
//
// Every name the walk uses is a single name in the directory it holds open, so no link or
// renamed directory planted in the tree can lead it outside. It never goes back up through
// `..`: a directory removed while the walk is inside costs that directory's entries, and the
// walk goes on from its parent's handle. The working directory is process-wide, which is why
// parallel walks run in helper processes, not threads.

import { closeSync, fstatSync, type Stats } from 'node:fs';
import { errnoCode } from '../errors.ts';
import { enterHandle, openDirectory, sameEntry, type Identity } from './handles.ts';
import { mountId } from './mounts.ts';
import { listNames, showPath, type Name } from './names.ts';
import type { Place } from './jobs.ts';
import type { Pace } from './pace.ts';

/** A directory the walk is in: its name, its handle, its state when opened, and its names. */
export interface Frame {
  readonly name: Name;
  readonly fd: number;
  /** fstat of the handle when it was opened, before anything inside it changed. */
  readonly stat: Stats;
  /** The id of the mount it is on, where the kernel says. */
  readonly mount: number | undefined;
  readonly names: readonly Name[];
  next: number;
}

/** Why the walk did not go into a directory it meant to; 'mount': something is mounted on it, of the same filesystem or not. */
export type Skip = 'vanished' | 'unreadable' | 'changed' | 'mount';

/** What a walk reports to the code that decides what to do with each entry. */
export interface Visitor {
  /** One entry of the working directory; return what was examined of a directory to walk into it. */
  visit(name: Name, walk: Walk): Identity | undefined;
  /** In the parent, after the walk left `frame`; its handle is still open. */
  left?(frame: Frame, walk: Walk): void;
  /** For each directory still open when the walk is abandoned (stopped or failed), innermost first. */
  abandoned?(frame: Frame): void;
  /** A directory was not walked into: it is gone, cannot be entered or read, or is no longer the one examined. */
  skipped?(path: string, why: Skip, error?: unknown): void;
}

/** Why opening or entering a directory failed: any error of the kernel's costs that directory only, never the walk. */
function skipFor(error: unknown): Skip | undefined {
  const code = errnoCode(error);
  switch (code) {
    case undefined: return undefined;
    case 'ENOENT': return 'vanished';
    // A link or a file put in its place since it was examined.
    case 'ELOOP': case 'ENOTDIR': return 'changed';
    // EACCES, EPERM, EMFILE, EIO, ESTALE (a network filesystem), ...
    default: return 'unreadable';
  }
}

/** Where walks start from handle `home`, the working directory, at `pace`. */
export function placeAt(home: number, pace: Pace): Place {
  return { home, homeStat: fstatSync(home), homeMount: mountId(home), pace };
}

/** One walk, from HLS_TEMP_DIR (held by the handle `home`, the working directory) down. */
export class Walk {
  private readonly frames: Frame[] = [];
  private readonly home: number;
  private readonly homeStat: Stats;
  private readonly homeMount: number | undefined;
  private readonly pace: Pace;

  constructor(at: Place) {
    this.home = at.home;
    this.homeStat = at.homeStat;
    this.homeMount = at.homeMount;
    this.pace = at.pace;
  }

  /** The path of `name` in the working directory, from HLS_TEMP_DIR, shown escaped. */
  path(name: Name): string {
    return showPath([...this.frames.map((f) => f.name), name]);
  }

  /** The state of the working directory when the walk entered it. */
  here(): Stats {
    return this.frames.at(-1)?.stat ?? this.homeStat;
  }

  /** Walks directory `name` of HLS_TEMP_DIR, examined as `examined`, depth first; returns in HLS_TEMP_DIR. */
  async run(name: Name, examined: Identity, visitor: Visitor): Promise<void> {
    if (!this.open(name, examined, visitor)) return;
    try {
      for (let top = this.frames.at(-1); top !== undefined; top = this.frames.at(-1)) {
        const entry = top.names[top.next++];
        if (entry === undefined) {
          this.close(visitor);
          continue;
        }
        const pause = this.pace.tick();
        if (pause !== undefined) await pause;
        const directory = visitor.visit(entry, this);
        if (directory !== undefined) this.open(entry, directory, visitor);
      }
    } catch (error) {
      this.abandon(visitor);
      throw error;
    }
  }

  /** Opens, checks and enters directory `name`; false (and reported) when it cannot. */
  private open(name: Name, examined: Identity, visitor: Visitor): boolean {
    let fd: number;
    try {
      fd = openDirectory(name);
    } catch (error) {
      return this.skip(name, error, visitor);
    }
    const above = this.frames.at(-1);
    const parent = above?.fd ?? this.home;
    let why: Skip = 'changed';
    try {
      const stat = fstatSync(fd);
      const mount = mountId(fd);
      // A bind mount keeps the device of its source: only the mount's id tells it from a directory.
      if (mount !== (above === undefined ? this.homeMount : above.mount)) why = 'mount';
      else if (sameEntry(stat, examined)) {
        enterHandle(fd);
        let names: Name[];
        try {
          names = listNames();
        } catch (error) {
          enterHandle(parent);
          throw error;
        }
        this.frames.push({ name, fd, stat, mount, names, next: 0 });
        return true;
      }
    } catch (error) {
      closeSync(fd);
      return this.skip(name, error, visitor);
    }
    closeSync(fd);
    visitor.skipped?.(this.path(name), why);
    return false;
  }

  private skip(name: Name, error: unknown, visitor: Visitor): false {
    const why = skipFor(error);
    if (why === undefined) throw error;
    visitor.skipped?.(this.path(name), why, error);
    return false;
  }

  /** Goes back to the parent through its handle, never through `..`. */
  private close(visitor: Visitor): void {
    const frame = this.frames.pop();
    if (frame === undefined) return;
    try {
      if (this.reenter(visitor)) visitor.left?.(frame, this);
      // What `left` does by name in the parent must not happen in another directory.
      else visitor.abandoned?.(frame);
    } finally {
      closeSync(frame.fd);
    }
  }

  /**
   * Enters the innermost open directory again; one that refuses (its owner took away search
   * permission from a walk that is not root's) is given up with what it had left, and its parent
   * entered instead. False when that happened.
   */
  private reenter(visitor: Visitor): boolean {
    for (let again = true; ; again = false) {
      const frame = this.frames.at(-1);
      try {
        enterHandle(frame?.fd ?? this.home);
        return again;
      } catch (error) {
        if (frame === undefined || errnoCode(error) === undefined) throw error;
        this.frames.pop();
        visitor.skipped?.(this.path(frame.name), 'unreadable', error);
        try {
          visitor.abandoned?.(frame);
        } finally {
          closeSync(frame.fd);
        }
      }
    }
  }

  private abandon(visitor: Visitor): void {
    for (let frame = this.frames.pop(); frame !== undefined; frame = this.frames.pop()) {
      try {
        visitor.abandoned?.(frame);
      } finally {
        closeSync(frame.fd);
      }
    }
    enterHandle(this.home);
  }
}
