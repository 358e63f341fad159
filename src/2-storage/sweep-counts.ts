// What a sweep is told and what it reports, the same in this process and in its helpers.

export interface SweepOptions {
  /** A stream directory goes when its newest entry is older than this many seconds. */
  readonly ageSeconds: number;
  /** "Now", in milliseconds since the epoch: the same instant in every process. */
  readonly now: number;
  /** False for --dry-run: say what would go, remove nothing. */
  readonly apply: boolean;
  /** The filesystem of HLS_TEMP_DIR: nothing on another one is removed. */
  readonly dev: number;
  /** How far past `now` an mtime may lie before its directory counts as dated in the future. */
  readonly futureMs: number;
}

/** How an mtime stands against the threshold: dated in the future, young enough to keep, or old enough to go. */
export function ageOf(mtimeMs: number, options: SweepOptions): 'future' | 'young' | 'old' {
  if (mtimeMs > options.now + options.futureMs) return 'future';
  return mtimeMs >= options.now - options.ageSeconds * 1000 ? 'young' : 'old';
}

/** What a sweep found and did; the numbers sum across helper processes. */
export interface SweepCounts {
  /** Entries examined inside stream directories. */
  checked: number;
  /** Stream directories removed (or that would be). */
  removed: number;
  /** Kept: an entry younger than the threshold. */
  young: number;
  /** Kept: an entry dated in the future, which a clock set wrong on this or another machine gives. */
  future: number;
  /** Kept: named like a stream directory, but a file or a symbolic link. */
  notDirectory: number;
  /** Kept: in a shared directory, another user's (neither root's nor WWWUSER's). */
  foreign: number;
  /** Kept: on or holding another filesystem, or removal failed (see failures). */
  other: number;
  /** Bytes of disk the removed directories held (st_blocks, files with one link). */
  bytes: number;
  removedNames: string[];
  futureNames: string[];
  foreignNames: string[];
  failures: string[];
}

export function emptySweepCounts(): SweepCounts {
  return {
    checked: 0, removed: 0, young: 0, future: 0, notDirectory: 0, foreign: 0, other: 0, bytes: 0,
    removedNames: [], futureNames: [], foreignNames: [], failures: [],
  };
}

/** "3.5 h", "12 min", "40 s". */
function duration(ms: number): string {
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1).replace(/\.0$/, '')} h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
}

/** Why a directory dated in the future stays, for the log. */
export function futureNote(shown: string, mtimeMs: number, now: number): string {
  return `${shown} (an entry is dated ${new Date(mtimeMs).toISOString()}, ${duration(mtimeMs - now)} ahead of this clock)`;
}
