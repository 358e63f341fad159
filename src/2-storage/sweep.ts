// The startup sweep: removes the stream directories a crashed proxy left behind, by age, from inside HLS_TEMP_DIR.
//
// The proxy's garbage collector removes only empty directories, so that it never races FFmpeg;
// after a hard crash the stream directories stay full. At start-up nothing writes them yet, and
// a directory whose newest entry is older than HLS_GC_AGE_THRESHOLD belongs to no live stream:
// it goes, with its contents. The walk is the ownership walk's: single names from a verified
// working directory, never a link followed, never another filesystem entered.

import { lstatSync, readdirSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { errnoCode, reason } from '../errors.ts';
import { job, now, withinJob, type Counts, type Job, type Task } from './jobs.ts';
import { runJobs } from './parallel.ts';
import { STREAM_DIR_PREFIX } from './plan.ts';
import { TreeChanged, Walk, idOf, type DirId, type Visitor } from './tree.ts';

export interface SweepOptions {
  /** A stream directory goes when its newest entry is older than this many seconds. */
  readonly ageSeconds: number;
  /** "Now", in milliseconds since the epoch: the same instant in every process. */
  readonly now: number;
  /** False for --dry-run: say what would go, remove nothing. */
  readonly apply: boolean;
  /** The filesystem of HLS_TEMP_DIR, and its path as the kernel names it. */
  readonly dev: number;
  readonly rootPath: string;
}

/** What a sweep found and did; the numbers sum across helper processes. */
export interface SweepCounts {
  /** Entries examined inside stream directories. */
  checked: number;
  /** Stream directories removed (or that would be). */
  removed: number;
  /** Kept: an entry younger than the threshold. */
  young: number;
  /** Kept: named like a stream directory, but a file or a symbolic link. */
  notDirectory: number;
  /** Kept: on or holding another filesystem, or removal failed (see failures). */
  other: number;
  /** Bytes of disk the removed directories held (st_blocks, files with one link). */
  bytes: number;
  removedNames: string[];
  failures: string[];
}

export function emptySweepCounts(): SweepCounts {
  return { checked: 0, removed: 0, young: 0, notDirectory: 0, other: 0, bytes: 0, removedNames: [], failures: [] };
}

/** First pass over a stream directory: its newest mtime, the disk it holds, and whether a mount is inside. */
class Scan implements Visitor {
  newest = 0;
  bytes = 0;
  entries = 0;
  mount = false;
  private readonly dev: number;

  constructor(dev: number) {
    this.dev = dev;
  }

  visit(_name: string, stat: Stats): boolean {
    this.entries++;
    if (stat.dev !== this.dev) {
      this.mount = true;
      return false;
    }
    this.newest = Math.max(this.newest, stat.mtimeMs);
    const directory = stat.isDirectory();
    // A file with another link elsewhere frees nothing when this one goes.
    if (directory || stat.nlink === 1) this.bytes += stat.blocks * 512;
    return directory;
  }
}

/** Second pass: unlink every entry, and remove each directory once the walk has left it. */
class Remove implements Visitor {
  private readonly dev: number;

  constructor(dev: number) {
    this.dev = dev;
  }

  visit(name: string, stat: Stats): boolean {
    // Checked by the scan; should a mount have appeared since, leave it, and the rmdir above it fails.
    if (stat.dev !== this.dev) return false;
    if (stat.isDirectory()) return true;
    unlinkSync(name);
    return false;
  }

  left(name: string): void {
    rmdirSync(name);
  }
}

/** The sweep of one stream directory at a time, here or in a helper process. */
export class SweepTask implements Task<SweepCounts & Counts> {
  readonly counts = emptySweepCounts() as SweepCounts & Counts;
  private readonly options: SweepOptions;

  constructor(options: SweepOptions) {
    this.options = options;
  }

  runJob(j: Job, root: DirId): void {
    const { dev, apply } = this.options;
    const cutoff = this.options.now - this.options.ageSeconds * 1000;
    const scan = new Scan(dev);
    try {
      // The directory itself counts: its mtime among the newest, its blocks among the bytes.
      const self = lstatSync(j.name);
      scan.newest = self.mtimeMs;
      scan.bytes = self.blocks * 512;
      withinJob(j, root, (id) => {
        new Walk(j.name).run(id, scan);
      });
      this.counts.checked += scan.entries;
      if (scan.mount) {
        this.counts.other++;
        this.counts.failures.push(`${j.name}: another filesystem is mounted inside; kept`);
        return;
      }
      if (scan.newest >= cutoff) {
        this.counts.young++;
        return;
      }
      if (apply) {
        withinJob(j, root, (id) => {
          new Walk(j.name).run(id, new Remove(dev));
        });
        rmdirSync(j.name);
      }
      this.counts.removed++;
      this.counts.bytes += scan.bytes;
      this.counts.removedNames.push(`${j.name} (${scan.entries} entries, ${scan.bytes} bytes)`);
    } catch (error) {
      if (error instanceof TreeChanged) throw error;
      // One directory that cannot go is a warning; the walk comes back to the root and goes on.
      this.counts.other++;
      this.counts.failures.push(`${j.name}: ${reason(error)}`);
      process.chdir(this.options.rootPath);
      const here = idOf('.');
      if (here.dev !== root.dev || here.ino !== root.ino) throw new TreeChanged('HLS_TEMP_DIR is no longer the directory that was examined', { cause: error });
    }
  }
}

export interface SweepReport {
  readonly counts: SweepCounts;
  readonly helpers: number;
  readonly seconds: number;
}

/**
 * Sweeps the working directory (HLS_TEMP_DIR, identified by `root`): every direct child named
 * m3u_proxy_hls_* that is a directory on the same filesystem, and older than the threshold.
 */
export async function sweepHere(root: DirId, options: Omit<SweepOptions, 'dev' | 'rootPath'>, progress?: (checked: number) => void): Promise<SweepReport> {
  const started = now();
  const rootStat = lstatSync('.');
  const full: SweepOptions = { ...options, dev: rootStat.dev, rootPath: process.cwd() };
  const cutoff = options.now - options.ageSeconds * 1000;
  const task = new SweepTask(full);
  const jobs: Job[] = [];
  for (const name of readdirSync('.')) {
    if (!name.startsWith(STREAM_DIR_PREFIX)) continue;
    let stat: Stats;
    try {
      stat = lstatSync(name);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue;
      throw error;
    }
    // A link named like a stream directory is not one: never followed, never counted as one.
    if (!stat.isDirectory()) task.counts.notDirectory++;
    else if (stat.dev !== full.dev) {
      task.counts.other++;
      task.counts.failures.push(`${name}: a mount point of another filesystem; kept`);
    } else if (stat.mtimeMs >= cutoff) task.counts.young++;
    else jobs.push(job(name, idOf(name), stat.size));
  }
  const report = await runJobs(jobs, task, { kind: 'sweep', options: full }, { root: full.rootPath, rootId: root, ...(progress ? { progress } : {}) });
  for (const problem of report.problems) task.counts.failures.push(problem.error);
  return { counts: task.counts, helpers: report.helpers, seconds: (now() - started) / 1000 };
}
