// The sweep's two passes over a stream directory: a scan that judges its age, and the removal.
//
// A directory the removal cannot empty keeps what is left, and every directory left gets back the
// times it had: removing entries refreshes a directory's mtime, and the next start must judge it
// by what is left in it, not by the sweep's own partial work.

import { futimesSync, lstatSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { errnoCode } from '../errors.ts';
import type { Identity } from './handles.ts';
import type { Job } from './jobs.ts';
import { showReason, type Name } from './names.ts';
import { ageOf, type SweepOptions } from './sweep-counts.ts';
import type { Frame, Skip, Visitor, Walk } from './tree.ts';

/** Why a scan ended early: the directory stays. */
export class Keep extends Error {
  readonly why: 'young' | 'future' | 'mount';
  readonly mtimeMs: number;

  constructor(why: Keep['why'], mtimeMs = 0) {
    super(why);
    this.why = why;
    this.mtimeMs = mtimeMs;
  }
}

/** First pass: the newest mtime and the disk held, ending at the first entry that says the directory stays. */
export class Scan implements Visitor {
  bytes = 0;
  entries = 0;
  private readonly options: SweepOptions;

  constructor(options: SweepOptions, self: Job['stat']) {
    this.options = options;
    this.bytes = self.blocks * 512;
  }

  visit(entry: Name): Identity | undefined {
    let stat: Stats;
    try {
      stat = lstatSync(entry);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    this.entries++;
    if (stat.dev !== this.options.dev) throw new Keep('mount');
    const age = ageOf(stat.mtimeMs, this.options);
    if (age !== 'old') throw new Keep(age, stat.mtimeMs);
    const directory = stat.isDirectory();
    // A file with another link elsewhere frees nothing when this one goes.
    if (directory || stat.nlink === 1) this.bytes += stat.blocks * 512;
    return directory ? stat : undefined;
  }

  skipped(path: string, why: Skip, error?: unknown): void {
    if (why === 'mount') throw new Keep('mount');
    if (why !== 'vanished') throw new Error(`${path}: ${error === undefined ? 'it changed while it was examined' : showReason(error)}`);
  }
}

/** Second pass: unlink every entry, remove each directory once the walk has left it, give back the times of what stays. */
export class Remove implements Visitor {
  /** The first entry that could not go, and why. */
  failure: string | undefined;
  private readonly dev: number;

  constructor(dev: number) {
    this.dev = dev;
  }

  visit(entry: Name, walk: Walk): Identity | undefined {
    try {
      unlinkSync(entry);
      return undefined;
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT') return undefined;
      // Linux's unlink says EISDIR for a directory: walk into it, unless a filesystem was mounted there since.
      if (code === 'EISDIR') {
        const stat = lstatSync(entry, { throwIfNoEntry: false });
        if (stat === undefined) return undefined;
        if (stat.isDirectory() && stat.dev === this.dev) return stat;
        if (stat.dev !== this.dev) {
          this.failure ??= `${walk.path(entry)}: another filesystem is mounted there`;
          return undefined;
        }
      }
      this.fail(walk.path(entry), error);
      return undefined;
    }
  }

  left(frame: Frame, walk: Walk): void {
    try {
      rmdirSync(frame.name);
    } catch (error) {
      this.restore(frame);
      // Not empty because something in it could not go: that is the failure to name, not this.
      if (errnoCode(error) !== 'ENOTEMPTY' || this.failure === undefined) this.fail(walk.path(frame.name), error);
    }
  }

  abandoned(frame: Frame): void {
    this.restore(frame);
  }

  skipped(path: string, why: Skip, error?: unknown): void {
    if (why === 'mount') this.failure ??= `${path}: another filesystem is mounted there`;
    else if (why !== 'vanished') this.fail(path, error ?? new Error('it changed while it was removed'));
  }

  private fail(path: string, error: unknown): void {
    this.failure ??= `${path}: ${showReason(error)}`;
  }

  private restore(frame: Frame): void {
    try {
      futimesSync(frame.fd, frame.stat.atimeMs / 1000, frame.stat.mtimeMs / 1000);
    } catch {
      // Best effort: the directory then looks young until HLS_GC_AGE_THRESHOLD passes again.
    }
  }
}
