// The sweep of one stale stream directory: judge its age by its newest entry, then remove it, or leave it as it was.
//
// A directory the sweep cannot empty (an immutable file, a stop request) keeps what is left, and
// every directory left gets back the times it had: removing entries refreshes a directory's mtime,
// and the next start must judge it by what is left in it, not by the sweep's own partial work.

import { futimesSync, lstatSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { errnoCode, reason } from '../errors.ts';
import { Interrupted } from '../stop.ts';
import type { Identity } from './handles.ts';
import { name, type Counts, type Job, type Place, type Task } from './jobs.ts';
import { plural, showName } from './names.ts';
import { Stopped } from './pace.ts';
import { emptySweepCounts, futureNote, type SweepCounts, type SweepOptions } from './sweep-counts.ts';
import { Walk, type Frame, type Skip, type Visitor } from './tree.ts';

/** Why a scan ended early: the directory stays. */
class Keep extends Error {
  readonly why: 'young' | 'future' | 'mount';
  readonly mtimeMs: number;

  constructor(why: Keep['why'], mtimeMs = 0) {
    super(why);
    this.why = why;
    this.mtimeMs = mtimeMs;
  }
}

/** First pass: the newest mtime and the disk held, ending at the first entry that says the directory stays. */
class Scan implements Visitor {
  bytes = 0;
  entries = 0;
  private readonly options: SweepOptions;

  constructor(options: SweepOptions, self: Job['stat']) {
    this.options = options;
    this.bytes = self.blocks * 512;
  }

  visit(entry: Buffer): Identity | undefined {
    let stat: Stats;
    try {
      stat = lstatSync(entry);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    this.entries++;
    if (stat.dev !== this.options.dev) throw new Keep('mount');
    if (stat.mtimeMs > this.options.now + this.options.futureMs) throw new Keep('future', stat.mtimeMs);
    if (stat.mtimeMs >= this.options.now - this.options.ageSeconds * 1000) throw new Keep('young');
    const directory = stat.isDirectory();
    // A file with another link elsewhere frees nothing when this one goes.
    if (directory || stat.nlink === 1) this.bytes += stat.blocks * 512;
    return directory ? stat : undefined;
  }

  skipped(path: string, why: Skip, error?: unknown): void {
    if (why !== 'vanished') throw new Error(`${path}: ${error === undefined ? 'it changed while it was examined' : reason(error)}`);
  }
}

/** Second pass: unlink every entry, remove each directory once the walk has left it, give back the times of what stays. */
class Remove implements Visitor {
  /** The first entry that could not go, and why. */
  failure: string | undefined;
  private readonly dev: number;

  constructor(dev: number) {
    this.dev = dev;
  }

  visit(entry: Buffer, walk: Walk): Identity | undefined {
    try {
      unlinkSync(entry);
      return undefined;
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT') return undefined;
      // Linux's unlink says EISDIR for a directory: walk into it, unless a filesystem was mounted there since.
      if (code === 'EISDIR') {
        const stat = lstatSync(entry, { throwIfNoEntry: false });
        if (stat?.isDirectory() === true && stat.dev === this.dev) return stat;
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
    if (why !== 'vanished') this.fail(path, error ?? new Error('it changed while it was removed'));
  }

  private fail(path: string, error: unknown): void {
    this.failure ??= `${path}: ${reason(error)}`;
  }

  private restore(frame: Frame): void {
    try {
      futimesSync(frame.fd, frame.stat.atimeMs / 1000, frame.stat.mtimeMs / 1000);
    } catch {
      // Best effort: the directory then looks young until HLS_GC_AGE_THRESHOLD passes again.
    }
  }
}

/** Whether `error` is a stop request, which must end the sweep rather than count as one directory's failure. */
function isStop(error: unknown): boolean {
  return error instanceof Stopped || error instanceof Interrupted;
}

/** The sweep of one stream directory at a time, here or in a helper process. */
export class SweepTask implements Task<SweepCounts & Counts> {
  readonly counts = emptySweepCounts() as SweepCounts & Counts;
  private readonly options: SweepOptions;

  constructor(options: SweepOptions) {
    this.options = options;
  }

  async runJob(j: Job, at: Place): Promise<void> {
    const c = this.counts;
    const shown = showName(j.name);
    const scan = new Scan(this.options, j.stat);
    try {
      await new Walk(at.home, at.homeStat, at.pace).run(j.name, j.stat, scan);
    } catch (error) {
      c.checked += scan.entries;
      if (isStop(error)) throw error;
      if (!(error instanceof Keep)) {
        c.other++;
        c.failures.push(`${shown}: ${reason(error)}`);
      } else if (error.why === 'young') c.young++;
      else if (error.why === 'future') {
        c.future++;
        name(c.futureNames, futureNote(shown, error.mtimeMs, this.options.now));
      } else {
        c.other++;
        c.failures.push(`${shown}: another filesystem is mounted inside; kept`);
      }
      return;
    }
    c.checked += scan.entries;
    if (this.options.apply) {
      const remove = new Remove(this.options.dev);
      try {
        await new Walk(at.home, at.homeStat, at.pace).run(j.name, j.stat, remove);
      } catch (error) {
        if (isStop(error)) throw error;
        remove.failure ??= reason(error);
      }
      if (remove.failure !== undefined) {
        c.other++;
        c.failures.push(`${shown}: ${remove.failure}; what is left stays, with its times as they were`);
        return;
      }
    }
    c.removed++;
    c.bytes += scan.bytes;
    c.removedNames.push(`${shown} (${plural(scan.entries, 'entry', 'entries')}, ${plural(scan.bytes, 'byte')})`);
  }
}

export type { SweepOptions } from './sweep-counts.ts';
