// Sizes, percentages and thresholds of the disk check: parsing "2G", "500M", "10%", exact arithmetic. Pure.

const UNITS: Readonly<Record<string, number>> = { '': 2 ** 20, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * The largest size a threshold may be, in bytes: 2^53 - 1 (8 PiB). Above it a byte count is no
 * longer exact, and written out it turns into `1.1e+21`, which the performance data syntax does not know.
 */
export const MAX_BYTES = Number.MAX_SAFE_INTEGER;
/** The same in whole MiB, for the variables that give thresholds in MiB. */
export const MAX_MIB = Math.floor(MAX_BYTES / 2 ** 20);
/** Why a threshold above MAX_BYTES is refused. */
export const TOO_LARGE = 'above 8 PiB, the largest threshold whose byte count is exact';

/** A threshold as given: bytes, or a percentage of the filesystem's size. */
export type Threshold = { readonly bytes: number } | { readonly percent: number };

/** The monitoring-plugins statuses, from best to worst. */
export type DiskStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

/**
 * Parses a percentage from 0 to 100, with or without `%`, with at most two decimals (`10`, `2.5%`).
 * Two decimals keep every threshold computed from it exact. Undefined when it is not one.
 */
export function parsePercent(text: string): number | undefined {
  const match = /^(\d{1,3}(?:\.\d{1,2})?)%?$/.exec(text.trim());
  if (match?.[1] === undefined) return undefined;
  const value = Number(match[1]);
  return value <= 100 ? value : undefined;
}

/**
 * Parses a size: `2G`, `500M`, `524288K`, `1.5G`, `10%`, or a plain number of MiB. Units are
 * binary (K = 1024), in either case, with an optional `iB` or `B`. Undefined when it is not one.
 */
export function parseThreshold(text: string): Threshold | undefined {
  if (text.trim().endsWith('%')) {
    const percent = parsePercent(text);
    return percent === undefined ? undefined : { percent };
  }
  const size = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (size?.[1] === undefined) return undefined;
  const unit = (size[2] ?? '').toUpperCase();
  // A bare "B" suffix means bytes; no suffix at all means MiB, as HLS_DISK_*_MB do.
  const factor = unit === '' && /b$/i.test(text.trim()) ? 1 : UNITS[unit] ?? 0;
  return { bytes: Math.floor(Number(size[1]) * factor) };
}

/**
 * The smallest whole count that is not below `percent` of `total`: "alert below P% of T" is then
 * exactly "alert below this count" for whole free counts, and the plugin range `count:` says the same.
 * Computed in integers, so neither a large total nor a decimal percentage rounds it the wrong way.
 */
export function percentOf(total: number, percent: number): number {
  const numerator = BigInt(total) * BigInt(Math.round(percent * 100));
  return Number((numerator + 9999n) / 10000n);
}

/** The threshold in bytes for a filesystem of `total` bytes. */
export function thresholdBytes(threshold: Threshold, total: number): number {
  return 'bytes' in threshold ? threshold.bytes : percentOf(total, threshold.percent);
}

/** CRITICAL below the critical threshold, WARNING below the warning one, else OK: the plugin ranges `warn:` and `critical:`. */
export function classify(free: number, warn: number, critical: number): DiskStatus {
  if (free < critical) return 'CRITICAL';
  if (free < warn) return 'WARNING';
  return 'OK';
}

const RANK: Readonly<Record<DiskStatus, number>> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

/** The worse of two statuses. */
export function worst(a: DiskStatus, b: DiskStatus): DiskStatus {
  return RANK[b] > RANK[a] ? b : a;
}

/** `part` as a percentage of `whole`, rounded down to one decimal, so that it never reads above a threshold it is below. */
export function shareText(part: number, whole: number): string {
  const tenths = Number((BigInt(part) * 1000n) / BigInt(whole));
  return `${tenths % 10 === 0 ? String(tenths / 10) : (tenths / 10).toFixed(1)}%`;
}

/** The old start script's integer arithmetic: KiB from df, then MB = KiB/1024 and GB = MB/1024. */
export function oldScriptSizes(freeBytes: number): { mb: number; gb: number } {
  const mb = Math.floor(Math.floor(freeBytes / 1024) / 1024);
  return { mb, gb: Math.floor(mb / 1024) };
}
