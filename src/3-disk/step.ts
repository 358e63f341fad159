// The disk step of the startup: the old script's lines, the same verdict as check-disk, and exit 75 on request.

import type { Config } from '../1-config/resolve.ts';
import { BootstrapError, EXIT } from '../errors.ts';
import type { Output } from '../output.ts';
import { Unmeasurable, measure } from './measure.ts';
import { resultOf, unknownResult, type CheckResult } from './report.ts';
import { oldScriptSizes, shareText } from './thresholds.ts';
import { configLimits, judge, type Metric, type Verdict } from './verdict.ts';

/** The warning blocks of a metric that is not OK, and the reason a fail-on-critical start gives. */
function warnSpace(bytes: Metric, dir: string, config: Config, out: Output): string {
  const { HLS_DISK_WARN_MB: warnMb, HLS_DISK_CRITICAL_MB: criticalMb } = config.values;
  const { mb } = oldScriptSizes(bytes.free);
  out.warn('   ⚠️  WARNING: Low disk space for HLS segments!');
  out.warn(`      ${mb}MB free where ${dir} is; at least ${warnMb}MB is recommended.`);
  out.warn('      FFmpeg fails to write segments when the disk is full, and streams stop.');
  out.warn('      Free space on that volume, or lower HLS_GC_AGE_THRESHOLD so stale streams go sooner.');
  if (bytes.status === 'CRITICAL') {
    out.warn('   🔴 CRITICAL: Very low disk space!');
    out.warn(`      Below ${criticalMb}MB (HLS_DISK_CRITICAL_MB), streams will fail within minutes.`);
  }
  return `free disk space is critical: ${mb}MB where ${dir} is, below HLS_DISK_CRITICAL_MB=${criticalMb}`;
}

function warnInodes(inodes: Metric, dir: string, config: Config, out: Output): string {
  const { HLS_DISK_INODES_WARN_PERCENT: warn, HLS_DISK_INODES_CRITICAL_PERCENT: critical } = config.values;
  const free = `${inodes.free} of ${inodes.total} inodes free (${shareText(inodes.free, inodes.total)})`;
  out.warn('   ⚠️  WARNING: Few free inodes for HLS segments!');
  out.warn(`      ${free} where ${dir} is; at least ${warn}% is recommended.`);
  out.warn('      Every segment takes an inode: with none left FFmpeg fails as on a full disk, however much space is free.');
  out.warn('      Remove stale stream directories (hls-bootstrap sweep), or lower HLS_GC_AGE_THRESHOLD so they go sooner.');
  if (inodes.status === 'CRITICAL') {
    out.warn('   🔴 CRITICAL: Very few free inodes!');
    out.warn(`      Below ${critical}% (HLS_DISK_INODES_CRITICAL_PERCENT), streams will fail within minutes.`);
  }
  return `free inodes are critical: ${free} where ${dir} is, below HLS_DISK_INODES_CRITICAL_PERCENT=${critical}`;
}

/** An UNKNOWN result: as with the old script, not knowing is no reason to stop the start. */
function cannotCheck(result: CheckResult, out: Output): void {
  out.record('disk', result);
  out.warn(`   ⚠️  The disk space cannot be checked: ${result.message}`);
}

/** Measures where HLS_TEMP_DIR is, logs it as the old script did, judges it as check-disk does, and stops with 75 if asked to. */
export async function diskStep(config: Config, out: Output, cwd: string): Promise<void> {
  const { HLS_TEMP_DIR: dir, HLS_DISK_CRITICAL_ACTION: action } = config.values;
  let verdict: Verdict;
  try {
    verdict = judge(await measure(dir, cwd), configLimits(config.values));
  } catch (error) {
    if (!(error instanceof Unmeasurable)) throw error;
    cannotCheck(unknownResult(dir, error.message), out);
    return;
  }
  const { bytes, inodes } = verdict;
  if (bytes === undefined) {
    cannotCheck(resultOf(verdict), out);
    return;
  }
  out.record('disk', resultOf(verdict));
  const { mb, gb } = oldScriptSizes(bytes.free);
  out.info(`   Available disk space: ${gb}GB (${mb}MB)`);
  out.info(inodes === undefined
    ? '   Available inodes: not reported by this filesystem, not checked'
    : `   Available inodes: ${inodes.free} of ${inodes.total} (${shareText(inodes.free, inodes.total)})`);
  const critical: string[] = [];
  if (bytes.status !== 'OK') {
    const why = warnSpace(bytes, dir, config, out);
    if (bytes.status === 'CRITICAL') critical.push(why);
  }
  if (inodes !== undefined && inodes.status !== 'OK') {
    const why = warnInodes(inodes, dir, config, out);
    if (inodes.status === 'CRITICAL') critical.push(why);
  }
  if (critical.length === 0) return;
  out.warn(action === 'fail'
    ? '      HLS_DISK_CRITICAL_ACTION=fail: the start-up stops here.'
    : '      Starting anyway; HLS_DISK_CRITICAL_ACTION=fail would stop the start-up instead.');
  if (action === 'fail') throw new BootstrapError(EXIT.DISK_CRITICAL, critical.map((why) => `${why}; not starting (HLS_DISK_CRITICAL_ACTION=fail)`));
}
