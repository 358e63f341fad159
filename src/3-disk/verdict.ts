// The verdict of the disk check: a measurement and thresholds in, a status out. The startup's disk
// step, check-disk and any other directory checked (with its own thresholds) all go through judge().

import { formatBytes } from '../output.ts';
import type { DiskSpace } from './measure.ts';
import { classify, percentOf, thresholdBytes, worst, type DiskStatus, type Threshold } from './thresholds.ts';

const MIB = 2 ** 20;

/** Thresholds: below `warn` free space WARNING, below `critical` CRITICAL; the same for free inodes, in percent of all. */
export interface Limits {
  readonly warn: Threshold;
  readonly critical: Threshold;
  readonly inodeWarnPercent: number;
  readonly inodeCriticalPercent: number;
}

/** One metric judged: its figures and thresholds in its own unit (bytes or inodes), and its status. */
export interface Metric {
  readonly status: DiskStatus;
  readonly free: number;
  readonly total: number;
  /** Alert below these: the plugin ranges `warn:` and `critical:`. */
  readonly warn: number;
  readonly critical: number;
}

export interface Verdict {
  /** The worse of the two metrics, or UNKNOWN with a reason. */
  readonly status: DiskStatus;
  readonly space: DiskSpace;
  readonly limits: Limits;
  /** Undefined when UNKNOWN. */
  readonly bytes: Metric | undefined;
  /** Undefined when UNKNOWN, or when the filesystem reports no inode figures (then not checked). */
  readonly inodes: Metric | undefined;
  /** Why the status is UNKNOWN. */
  readonly reason: string | undefined;
}

/** The thresholds of the configuration: HLS_DISK_WARN_MB, HLS_DISK_CRITICAL_MB and the inode percentages. */
export function configLimits(values: {
  readonly HLS_DISK_WARN_MB: number; readonly HLS_DISK_CRITICAL_MB: number;
  readonly HLS_DISK_INODES_WARN_PERCENT: number; readonly HLS_DISK_INODES_CRITICAL_PERCENT: number;
}): Limits {
  return {
    warn: { bytes: values.HLS_DISK_WARN_MB * MIB },
    critical: { bytes: values.HLS_DISK_CRITICAL_MB * MIB },
    inodeWarnPercent: values.HLS_DISK_INODES_WARN_PERCENT,
    inodeCriticalPercent: values.HLS_DISK_INODES_CRITICAL_PERCENT,
  };
}

function metric(free: number, total: number, warn: number, critical: number): Metric {
  return { status: classify(free, warn, critical), free, total, warn, critical };
}

function unknown(space: DiskSpace, limits: Limits, reason: string): Verdict {
  return { status: 'UNKNOWN', space, limits, bytes: undefined, inodes: undefined, reason };
}

/** Judges a measurement against thresholds. Thresholds that make no sense, or a filesystem without blocks, are UNKNOWN. */
export function judge(space: DiskSpace, limits: Limits): Verdict {
  // /proc, /sys and the like report no blocks at all: nothing can be written there, and nothing was measured.
  if (space.total === 0) return unknown(space, limits, `the filesystem of ${space.measured} reports no blocks: a pseudo filesystem such as proc holds no files`);
  const warn = thresholdBytes(limits.warn, space.total);
  const critical = thresholdBytes(limits.critical, space.total);
  if (critical > warn) {
    return unknown(space, limits, `the critical threshold (${formatBytes(critical)}) is above the warning threshold (${formatBytes(warn)})`);
  }
  if (limits.inodeCriticalPercent > limits.inodeWarnPercent) {
    return unknown(space, limits, `the critical inode threshold (${limits.inodeCriticalPercent}%) is above the warning one (${limits.inodeWarnPercent}%)`);
  }
  const bytes = metric(space.free, space.total, warn, critical);
  const { inodes: counts } = space;
  const inodes = counts === undefined ? undefined
    : metric(counts.free, counts.total, percentOf(counts.total, limits.inodeWarnPercent), percentOf(counts.total, limits.inodeCriticalPercent));
  return { status: worst(bytes.status, inodes?.status ?? 'OK'), space, bytes, inodes, limits, reason: undefined };
}
