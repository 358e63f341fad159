// Sizes and thresholds of the disk check: parsing "2G", "500M", "10%", classifying, formatting. Pure.

const UNITS: Readonly<Record<string, number>> = { '': 2 ** 20, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A threshold as given: bytes, or a percentage of the filesystem's size. */
export type Threshold = { readonly bytes: number } | { readonly percent: number };

/**
 * Parses a size: `2G`, `500M`, `524288K`, `1.5G`, `10%`, or a plain number of MiB. Units are
 * binary (K = 1024), in either case, with an optional `iB` or `B`. Undefined when it is not one.
 */
export function parseThreshold(text: string): Threshold | undefined {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (percent?.[1] !== undefined) {
    const value = Number(percent[1]);
    return value <= 100 ? { percent: value } : undefined;
  }
  const size = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (size?.[1] === undefined) return undefined;
  const unit = (size[2] ?? '').toUpperCase();
  // A bare "B" suffix means bytes; no suffix at all means MiB, as HLS_DISK_*_MB do.
  const factor = unit === '' && /b$/i.test(text.trim()) ? 1 : UNITS[unit] ?? 0;
  return { bytes: Math.floor(Number(size[1]) * factor) };
}

/** The threshold in bytes for a filesystem of `total` bytes. */
export function thresholdBytes(threshold: Threshold, total: number): number {
  return 'bytes' in threshold ? threshold.bytes : Math.floor((total * threshold.percent) / 100);
}

export type DiskStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

/** CRITICAL below the critical threshold, WARNING below the warning one, else OK. */
export function classify(free: number, warnBytes: number, criticalBytes: number): DiskStatus {
  if (free < criticalBytes) return 'CRITICAL';
  if (free < warnBytes) return 'WARNING';
  return 'OK';
}

/** The old start script's integer arithmetic: KiB from df, then MB = KiB/1024 and GB = MB/1024. */
export function oldScriptSizes(freeBytes: number): { mb: number; gb: number } {
  const mb = Math.floor(Math.floor(freeBytes / 1024) / 1024);
  return { mb, gb: Math.floor(mb / 1024) };
}
