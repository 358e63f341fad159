// A verdict as check-disk reports it: the --json object, the monitoring-plugins line, the exit code.

import { formatBytes } from '../output.ts';
import { shareText, type DiskStatus } from './thresholds.ts';
import type { Verdict } from './verdict.ts';

/** Exit codes of check-disk: the monitoring-plugins convention. */
export const CHECK_EXIT: Readonly<Record<DiskStatus, number>> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

/** For Docker's HEALTHCHECK, where 2 is reserved and only 0 and 1 are meant: healthy, or not. */
export const HEALTHCHECK_EXIT: Readonly<Record<DiskStatus, number>> = { OK: 0, WARNING: 0, CRITICAL: 1, UNKNOWN: 1 };

/** Docker keeps 4096 bytes of a health check's output; stay under it. */
const HEALTHCHECK_OUTPUT_LIMIT = 4000;

/**
 * The result, with exactly the keys of `check-disk --json` (and the disk step's record). Figures are
 * null when UNKNOWN; the inode figures also when the filesystem reports none.
 */
export interface CheckResult {
  readonly status: DiskStatus;
  /** The path asked about, made absolute. */
  readonly path: string;
  /** The path measured: `path`, or its nearest existing parent; null when nothing was. */
  readonly measured_path: string | null;
  readonly free_bytes: number | null;
  readonly total_bytes: number | null;
  readonly warn_bytes: number | null;
  readonly critical_bytes: number | null;
  readonly free_inodes: number | null;
  readonly total_inodes: number | null;
  readonly warn_inodes: number | null;
  readonly critical_inodes: number | null;
  readonly message: string;
}

/** An UNKNOWN result: nothing was measured, or nothing could be judged. */
export function unknownResult(path: string, message: string, measured: string | null = null): CheckResult {
  return {
    status: 'UNKNOWN', path, measured_path: measured, free_bytes: null, total_bytes: null, warn_bytes: null, critical_bytes: null,
    free_inodes: null, total_inodes: null, warn_inodes: null, critical_inodes: null, message,
  };
}

/** "/data/hls: 1.5 GiB free of 20 GiB (warning below 2 GiB); inodes 91% free, 1190000 of 1310720" */
function message(verdict: Verdict): string {
  const { space, bytes, inodes, limits } = verdict;
  const where = space.measured === space.path ? space.path : `${space.measured} (nearest existing parent of ${space.path})`;
  const level = (status: DiskStatus): 'warning' | 'critical' => (status === 'CRITICAL' ? 'critical' : 'warning');
  let text = `${where}: `;
  if (bytes !== undefined) {
    text += `${formatBytes(bytes.free)} free of ${formatBytes(bytes.total)}`;
    if (bytes.status !== 'OK') text += ` (${level(bytes.status)} below ${formatBytes(bytes.status === 'CRITICAL' ? bytes.critical : bytes.warn)})`;
  }
  if (inodes === undefined) return `${text}; inodes not reported by the filesystem, not checked`;
  text += `; inodes ${shareText(inodes.free, inodes.total)} free, ${inodes.free} of ${inodes.total}`;
  if (inodes.status === 'OK') return text;
  const percent = inodes.status === 'CRITICAL' ? limits.inodeCriticalPercent : limits.inodeWarnPercent;
  return `${text} (${level(inodes.status)} below ${percent}%)`;
}

/** The result of a verdict. */
export function resultOf(verdict: Verdict): CheckResult {
  const { space, bytes, inodes } = verdict;
  if (bytes === undefined) return unknownResult(space.path, verdict.reason ?? 'no verdict', space.measured);
  return {
    status: verdict.status, path: space.path, measured_path: space.measured,
    free_bytes: bytes.free, total_bytes: bytes.total, warn_bytes: bytes.warn, critical_bytes: bytes.critical,
    free_inodes: inodes?.free ?? null, total_inodes: inodes?.total ?? null, warn_inodes: inodes?.warn ?? null, critical_inodes: inodes?.critical ?? null,
    message: message(verdict),
  };
}

// A line break would end the status line, a `|` would start the performance data early, and other
// control characters reach a terminal or a web page as they are.
// eslint-disable-next-line no-control-regex
const NOT_IN_LINE = /[\\|\x00-\x1f\x7f-\x9f\u2028\u2029]/gu;
const SHORT: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` as one line of plugin output: `\`, `|`, line breaks and other control characters escaped (`\n`, `\x7c`, `\u2028`). */
export function oneLine(text: string): string {
  return text.replace(NOT_IN_LINE, (c) => {
    const code = c.codePointAt(0) ?? 0;
    return SHORT[c] ?? (code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, '0')}`);
  });
}

/**
 * The monitoring-plugins line: status, message, then performance data after `|`. A free metric
 * alerts when it falls below its threshold, which the plugin range syntax writes `N:`. The message
 * (a path, a reason) is made one line that holds no `|`, whatever it names.
 */
export function statusLine(result: CheckResult): string {
  const head = `DISK ${result.status} - ${oneLine(result.message)}`;
  if (result.free_bytes === null) return head;
  const perf = [`free=${result.free_bytes}B;${result.warn_bytes}:;${result.critical_bytes}:;0;${result.total_bytes}`];
  if (result.free_inodes !== null) perf.push(`free_inodes=${result.free_inodes};${result.warn_inodes}:;${result.critical_inodes}:;0;${result.total_inodes}`);
  return `${head} | ${perf.join(' ')}`;
}

/** Shortens `text` to at most `limit` characters, marking the cut; never inside a character beyond U+FFFF. */
function cut(text: string, limit: number): string {
  const chars = Array.from(text);
  return chars.length <= limit ? text : `${chars.slice(0, limit - 3).join('')}...`;
}

/** The output, with the free-text fields cut shorter and shorter until it fits `bytes` (Docker's limit). */
function fitted(result: CheckResult, json: boolean, bytes: number): string {
  for (let limit = bytes; ; limit = Math.floor(limit / 2)) {
    const short = {
      ...result, path: cut(result.path, limit), message: cut(result.message, limit),
      measured_path: result.measured_path === null ? null : cut(result.measured_path, limit),
    };
    const text = json ? JSON.stringify(short) : statusLine(short);
    // Escapes and multi-byte characters can make the text longer than its characters: count bytes.
    if (Buffer.byteLength(text) < bytes || limit < 8) return text;
  }
}

/** What check-disk prints and the code it exits with. */
export function report(result: CheckResult, mode: { json: boolean; healthcheck: boolean }): { text: string; exitCode: number } {
  // Docker keeps only the first 4 KiB of a health check's output; JSON stays whole JSON.
  const text = mode.healthcheck ? fitted(result, mode.json, HEALTHCHECK_OUTPUT_LIMIT) : mode.json ? JSON.stringify(result) : statusLine(result);
  return { text: `${text}\n`, exitCode: (mode.healthcheck ? HEALTHCHECK_EXIT : CHECK_EXIT)[result.status] };
}
