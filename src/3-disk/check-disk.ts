// `hls-bootstrap check-disk`: one status line a person, Docker's HEALTHCHECK and a monitoring system can all read.

import { BootstrapError } from '../errors.ts';
import type { Config } from '../1-config/resolve.ts';
import { Unmeasurable, measure } from './measure.ts';
import { formatBytes } from '../output.ts';
import { classify, parseThreshold, thresholdBytes, type DiskStatus, type Threshold } from './thresholds.ts';

/** Exit codes of check-disk: the monitoring-plugins convention. */
export const CHECK_EXIT: Readonly<Record<DiskStatus, number>> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

/** For Docker's HEALTHCHECK, where 2 is reserved and only 0 and 1 are meant: healthy, or not. */
export const HEALTHCHECK_EXIT: Readonly<Record<DiskStatus, number>> = { OK: 0, WARNING: 0, CRITICAL: 1, UNKNOWN: 1 };

/** Docker keeps 4096 bytes of a health check's output; stay under it (paths and messages are cut to 1000 first). */
const HEALTHCHECK_OUTPUT_LIMIT = 4000;

export interface CheckDiskOptions {
  readonly path?: string;
  readonly warn?: string;
  readonly critical?: string;
}

/** The result, with exactly the keys of `check-disk --json`. */
export interface CheckResult {
  readonly status: DiskStatus;
  readonly path: string;
  readonly free_bytes: number | null;
  readonly total_bytes: number | null;
  readonly warn_bytes: number | null;
  readonly critical_bytes: number | null;
  readonly message: string;
}

function unknown(path: string, message: string): CheckResult {
  return { status: 'UNKNOWN', path, free_bytes: null, total_bytes: null, warn_bytes: null, critical_bytes: null, message };
}

function threshold(option: 'warn' | 'critical', given: string | undefined, fallbackMb: number): Threshold | string {
  if (given === undefined) return { bytes: fallbackMb * 2 ** 20 };
  return parseThreshold(given) ?? `--${option} ${JSON.stringify(given)} is not a size: expected 2G, 500M, 524288K, a number of MiB, or a percentage such as 10%`;
}

/** Runs the check; `config` is the configuration, or the error that kept it from resolving. */
export async function checkDisk(config: Config | BootstrapError, options: CheckDiskOptions, cwd: string): Promise<CheckResult> {
  if (config instanceof BootstrapError) return unknown(options.path ?? '', config.problems.join('; '));
  const path = options.path ?? config.values.HLS_TEMP_DIR;
  const warn = threshold('warn', options.warn, config.values.HLS_DISK_WARN_MB);
  const critical = threshold('critical', options.critical, config.values.HLS_DISK_CRITICAL_MB);
  if (typeof warn === 'string') return unknown(path, warn);
  if (typeof critical === 'string') return unknown(path, critical);
  let space;
  try {
    space = await measure(path, cwd);
  } catch (error) {
    if (error instanceof Unmeasurable) return unknown(path, error.message);
    throw error;
  }
  const warnBytes = thresholdBytes(warn, space.total);
  const criticalBytes = thresholdBytes(critical, space.total);
  if (criticalBytes > warnBytes) {
    return unknown(space.path, `the critical threshold (${formatBytes(criticalBytes)}) is above the warning threshold (${formatBytes(warnBytes)})`);
  }
  const status = classify(space.free, warnBytes, criticalBytes);
  return {
    status,
    path: space.path,
    free_bytes: space.free,
    total_bytes: space.total,
    warn_bytes: warnBytes,
    critical_bytes: criticalBytes,
    message: `${formatBytes(space.free)} free of ${formatBytes(space.total)} on ${space.path}`,
  };
}

/** The monitoring-plugins line: status first, performance data after a `|`. */
export function statusLine(result: CheckResult): string {
  const head = `DISK ${result.status} - ${result.message}`;
  if (result.free_bytes === null) return head;
  return `${head} | free=${result.free_bytes}B;${result.warn_bytes};${result.critical_bytes};0;${result.total_bytes}`;
}

/** Shortens `text` to at most `limit` characters, marking the cut. */
function cut(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 3)}...`;
}

/** What check-disk prints and the code it exits with. */
export function report(result: CheckResult, mode: { json: boolean; healthcheck: boolean }): { text: string; exitCode: number } {
  // Docker keeps only the first 4 KiB of a health check's output: cut the free-text parts, keep JSON whole.
  const fitted = mode.healthcheck ? { ...result, path: cut(result.path, 1000), message: cut(result.message, 1000) } : result;
  const text = mode.json ? JSON.stringify(fitted) : statusLine(fitted);
  return { text: `${cut(text, HEALTHCHECK_OUTPUT_LIMIT)}\n`, exitCode: (mode.healthcheck ? HEALTHCHECK_EXIT : CHECK_EXIT)[result.status] };
}
