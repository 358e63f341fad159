// Walks a directory tree from inside it: every operation uses one name relative to a verified working directory.
//
// This is how fts(3) walks without following links. Each directory is entered with chdir and then
// checked to be the very directory (device and inode) that was examined, and left with `chdir ..`
// checked the same way, so no symlink or renamed directory planted in the tree can move the walk
// outside it: a name can only ever refer to an entry of the directory being walked. The working
// directory is process-wide, which is why parallel walks run in helper processes, not threads.

import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { errnoCode } from '../errors.ts';

/** Identifies a directory exactly, as the kernel does. */
export interface DirId {
  readonly dev: bigint;
  readonly ino: bigint;
}

/** The tree changed under the walk (a directory was swapped or moved): it stopped where it was. */
export class TreeChanged extends Error {}

/** The identity of `name`, without following a final symlink. */
export function idOf(name: string): DirId {
  const st = lstatSync(name, { bigint: true });
  return { dev: st.dev, ino: st.ino };
}

function verify(expected: DirId, what: string): void {
  const here = idOf('.');
  if (here.dev !== expected.dev || here.ino !== expected.ino) {
    throw new TreeChanged(`${what} is no longer the directory that was examined`);
  }
}

/** Enters `name`, a directory of the working directory, and checks it is the one identified by `id`. */
export function enter(name: string, id: DirId): void {
  process.chdir(name);
  verify(id, name);
}

/** Goes up one level and checks the parent is the one identified by `parent`. */
export function leave(parent: DirId): void {
  process.chdir('..');
  verify(parent, '..');
}

/** What a walk reports to the code that decides what to do with each entry. */
export interface Visitor {
  /** One entry of the working directory; return true to descend into it (it must be a directory). */
  visit(name: string, stat: Stats, walk: Walk): boolean;
  /** Called in the parent directory after the walk left the directory `name` that `visit` descended into. */
  left?(name: string, walk: Walk): void;
  /** An entry vanished between listing and examining it, as segments do while FFmpeg runs. */
  vanished?(name: string): void;
  /** A directory could not be entered or listed (not root, or a permission it lacks); it is left out. */
  unreadable?(name: string, error: unknown): void;
}

interface Frame {
  readonly name: string;
  readonly id: DirId;
  readonly names: string[];
  next: number;
}

/** The walk in progress, for visitors that need to know where they are. */
export class Walk {
  private readonly frames: Frame[] = [];
  private readonly base: readonly string[];

  /** `base`: the path of the starting directory, as reported paths should begin. */
  constructor(base?: string) {
    this.base = base === undefined ? [] : [base];
  }

  /** The path of `name`, from `base`. */
  path(name: string): string {
    return [...this.base, ...this.frames.slice(1).map((f) => f.name), name].join('/');
  }

  private descend(name: string, parent: Frame, visitor: Visitor): void {
    const id = idOf(name);
    let entered = false;
    try {
      enter(name, id);
      entered = true;
      this.frames.push({ name, id, names: readdirSync('.'), next: 0 });
    } catch (error) {
      if (error instanceof TreeChanged || visitor.unreadable === undefined) throw error;
      if (entered) leave(parent.id);
      visitor.unreadable(name, error);
    }
  }

  /**
   * Walks the working directory, identified by `here`, depth first. Returns with the working
   * directory where it was, or throws TreeChanged, after which the working directory is unknown.
   */
  run(here: DirId, visitor: Visitor): void {
    let names: string[];
    try {
      names = readdirSync('.');
    } catch (error) {
      if (visitor.unreadable === undefined) throw error;
      visitor.unreadable('.', error);
      return;
    }
    this.frames.push({ name: '.', id: here, names, next: 0 });
    for (let top = this.frames.at(-1); top !== undefined; top = this.frames.at(-1)) {
      const name = top.names[top.next++];
      if (name === undefined) {
        this.frames.pop();
        const parent = this.frames.at(-1);
        if (parent !== undefined) {
          leave(parent.id);
          visitor.left?.(top.name, this);
        }
        continue;
      }
      let stat: Stats;
      try {
        stat = lstatSync(name);
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw error;
        visitor.vanished?.(name);
        continue;
      }
      if (visitor.visit(name, stat, this) && stat.isDirectory()) this.descend(name, top, visitor);
    }
  }
}
