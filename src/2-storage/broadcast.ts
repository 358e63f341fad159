// Broadcast storage: HLS_BROADCAST_DIR prepared and measured as upstream's second block did, through the storage and disk steps' own functions.

import type { Config } from '../1-config/resolve.ts';
import { Unmeasurable, measure } from '../3-disk/measure.ts';
import { resultOf, unknownResult, type CheckResult } from '../3-disk/report.ts';
import { oldScriptSizes, shareText } from '../3-disk/thresholds.ts';
import { configLimits, judge, type Limits, type Verdict } from '../3-disk/verdict.ts';
import type { Output } from '../output.ts';
import { observe, type Target } from './observe.ts';
import { prepareDirectory, type StepOptions } from './step.ts';

/** HLS_BROADCAST_DIR, as the storage step prepares and names it. */
function broadcastTarget(config: Config): Target {
  return { variable: 'HLS_BROADCAST_DIR', path: config.values.HLS_BROADCAST_DIR, noun: 'broadcast storage', step: 'the broadcast storage step' };
}

/** Whether HLS_BROADCAST_DIR needs preparing of its own: broadcasts on, in a directory other than HLS_TEMP_DIR. */
export function ownBroadcastDir(config: Config): boolean {
  return config.values.NETWORK_BROADCAST_ENABLED && config.values.HLS_BROADCAST_DIR !== config.values.HLS_TEMP_DIR;
}

/** Refuses, before any step runs, a broadcast directory whose links lead into a system directory or that a file blocks. */
export function checkBroadcast(config: Config, euid = process.geteuid?.() ?? 0): void {
  if (ownBroadcastDir(config)) observe(broadcastTarget(config), euid);
}

/** The broadcast directory's own thresholds: a warning below HLS_BROADCAST_DISK_WARN_MB and never critical, as upstream; inodes as HLS_TEMP_DIR's. */
function broadcastLimits(config: Config): Limits {
  return { ...configLimits(config.values), warn: { bytes: config.values.HLS_BROADCAST_DISK_WARN_MB * 2 ** 20 }, critical: { bytes: 0 } };
}

/** Measures and judges the broadcast directory as check-disk would, and warns in upstream's lines; never stops the start. */
async function checkSpace(config: Config, out: Output, cwd: string): Promise<CheckResult> {
  const dir = config.values.HLS_BROADCAST_DIR;
  let verdict: Verdict;
  try {
    verdict = judge(await measure(dir, cwd), broadcastLimits(config));
  } catch (error) {
    if (!(error instanceof Unmeasurable)) throw error;
    out.warn(`   ⚠️  ${error.message}`);
    return unknownResult(dir, error.message);
  }
  const { bytes, inodes } = verdict;
  if (bytes === undefined) {
    out.warn(`   ⚠️  The broadcast storage space cannot be checked: ${verdict.reason ?? 'no verdict'}`);
    return resultOf(verdict);
  }
  const { mb, gb } = oldScriptSizes(bytes.free);
  out.info(`   Available space: ${gb}GB (${mb}MB)`);
  if (bytes.status !== 'OK') {
    out.warn('   ⚠️  WARNING: Low space for broadcast segments!');
    out.warn(`      Available: ${mb}MB`);
    out.warn(`      Recommended: At least ${config.values.HLS_BROADCAST_DISK_WARN_MB}MB for network broadcasts (HLS_BROADCAST_DISK_WARN_MB)`);
    out.warn('      Consider setting HLS_BROADCAST_DIR to a larger tmpfs or disk path.');
  }
  if (inodes !== undefined && inodes.status !== 'OK') {
    out.warn(`   ⚠️  WARNING: Few free inodes for broadcast segments: ${inodes.free} of ${inodes.total} (${shareText(inodes.free, inodes.total)})`);
  }
  return resultOf(verdict);
}

/**
 * With NETWORK_BROADCAST_ENABLED, prepares HLS_BROADCAST_DIR as the storage step prepares HLS_TEMP_DIR
 * (the same function: system paths refused, no link followed, WWWUSER:WWWGROUP, HLS_DIR_MODE; no
 * sweep, since the proxy's BROADCAST_GC_ENABLED collects its segments), checks its space, and logs
 * upstream's block.
 */
export async function broadcastStep(config: Config, out: Output, options: StepOptions & { readonly cwd: string }): Promise<void> {
  if (!config.values.NETWORK_BROADCAST_ENABLED) {
    out.record('broadcast', { skipped: 'NETWORK_BROADCAST_ENABLED=false' });
    return;
  }
  const dir = config.values.HLS_BROADCAST_DIR;
  out.info(out.paint.bold('📡 Configuring broadcast segment storage...'));
  out.info(`   HLS_BROADCAST_DIR: ${dir}`);
  if (!ownBroadcastDir(config)) {
    out.info('   The same directory as HLS_TEMP_DIR: prepared and measured above');
    out.record('broadcast', { path: dir, same_as_hls_temp_dir: true });
  } else {
    const prepared = await prepareDirectory(observe(broadcastTarget(config), options.euid), config, out, { ...options, sweep: false });
    out.record('broadcast', { ...prepared, disk: await checkSpace(config, out, options.cwd) });
  }
  out.info(out.paint.ok('✅ Broadcast storage configured'));
}
