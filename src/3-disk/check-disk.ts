// `hls-bootstrap check-disk`: the thresholds of the options over the configuration's, then measure and judge.

import { resolve } from 'node:path';
import type { Config } from '../1-config/resolve.ts';
import { BootstrapError } from '../errors.ts';
import { Unmeasurable, measureNow } from './measure.ts';
import { resultOf, unknownResult, type CheckResult } from './report.ts';
import { MAX_BYTES, TOO_LARGE, parsePercent, parseThreshold } from './thresholds.ts';
import { configLimits, judge, type Limits } from './verdict.ts';

/** The options of check-disk, as given; each threshold falls back to its variable. */
export interface CheckDiskOptions {
  readonly path?: string;
  readonly warn?: string;
  readonly critical?: string;
  readonly inodeWarn?: string;
  readonly inodeCritical?: string;
}

const SIZES = 'expected 2G, 500M, 524288K, a number of MiB, or a percentage such as 10%';
const PERCENTS = 'expected a percentage of all inodes from 0 to 100, such as 10 or 2.5%';

/** The configuration's thresholds with the options' in their place; a string is why an option is not valid. */
export function optionLimits(options: CheckDiskOptions, fallback: Limits): Limits | string {
  const size = (option: string, given: string | undefined, otherwise: Limits['warn']): Limits['warn'] | string => {
    if (given === undefined) return otherwise;
    const parsed = parseThreshold(given);
    if (parsed === undefined) return `--${option} ${JSON.stringify(given)} is not a size: ${SIZES}`;
    return 'bytes' in parsed && parsed.bytes > MAX_BYTES ? `--${option} ${JSON.stringify(given)} is ${TOO_LARGE}` : parsed;
  };
  const percent = (option: string, given: string | undefined, otherwise: number): number | string => {
    if (given === undefined) return otherwise;
    return parsePercent(given) ?? `--${option} ${JSON.stringify(given)} is not valid: ${PERCENTS}`;
  };
  const warn = size('warn', options.warn, fallback.warn);
  const critical = size('critical', options.critical, fallback.critical);
  const inodeWarnPercent = percent('inode-warn', options.inodeWarn, fallback.inodeWarnPercent);
  const inodeCriticalPercent = percent('inode-critical', options.inodeCritical, fallback.inodeCriticalPercent);
  if (typeof warn === 'string' || typeof critical === 'string' || typeof inodeWarnPercent === 'string' || typeof inodeCriticalPercent === 'string') {
    return [warn, critical, inodeWarnPercent, inodeCriticalPercent].filter((p) => typeof p === 'string').join('; ');
  }
  return { warn, critical, inodeWarnPercent, inodeCriticalPercent };
}

/** Runs the check; `config` is the configuration, or the error that kept it from resolving. */
export function checkDisk(config: Config | BootstrapError, options: CheckDiskOptions, cwd: string): CheckResult {
  if (config instanceof BootstrapError) return unknownResult(options.path === undefined ? '' : resolve(cwd, options.path), config.problems.join('; '));
  const path = resolve(cwd, options.path ?? config.values.HLS_TEMP_DIR);
  // Node.js reads a name's bytes that are not UTF-8 as U+FFFD, and would measure another path, or a parent.
  if (path.includes('\ufffd')) return unknownResult(path, `the path holds U+FFFD, which is what bytes that are not UTF-8 read as, so it cannot be named exactly; give its UTF-8 name, or a parent`);
  const limits = optionLimits(options, configLimits(config.values));
  if (typeof limits === 'string') return unknownResult(path, limits);
  try {
    return resultOf(judge(measureNow(path, cwd), limits));
  } catch (error) {
    if (error instanceof Unmeasurable) return unknownResult(path, error.message);
    throw error;
  }
}
