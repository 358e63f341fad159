// The disk step of the startup: the old script's lines and thresholds, and exit 75 on request.

import type { Config } from '../1-config/resolve.ts';
import { BootstrapError, EXIT } from '../errors.ts';
import type { Output } from '../output.ts';
import { Unmeasurable, measure } from './measure.ts';
import { classify, oldScriptSizes } from './thresholds.ts';

const MIB = 2 ** 20;

/** Measures free space where HLS_TEMP_DIR is, logs it as the old script did, and stops with 75 if asked to. */
export async function diskStep(config: Config, out: Output, cwd: string): Promise<void> {
  if (!config.values.M3U_PROXY_ENABLED) {
    out.record('disk', { skipped: 'M3U_PROXY_ENABLED=false' });
    return;
  }
  const { HLS_TEMP_DIR: dir, HLS_DISK_WARN_MB: warnMb, HLS_DISK_CRITICAL_MB: criticalMb, HLS_DISK_CRITICAL_ACTION: action } = config.values;
  let space;
  try {
    space = await measure(dir, cwd);
  } catch (error) {
    if (!(error instanceof Unmeasurable)) throw error;
    // As with the old script, not knowing is no reason to stop the start.
    out.warn(`   ⚠️  ${error.message}`);
    out.record('disk', { status: 'UNKNOWN', message: error.message });
    return;
  }
  const status = classify(space.free, warnMb * MIB, criticalMb * MIB);
  const { mb, gb } = oldScriptSizes(space.free);
  out.info(`   Available disk space: ${gb}GB (${mb}MB)`);
  if (status !== 'OK') {
    out.warn('   ⚠️  WARNING: Low disk space for HLS segments!');
    out.warn(`      ${mb}MB free where ${dir} is; at least ${warnMb}MB is recommended.`);
    out.warn('      FFmpeg fails to write segments when the disk is full, and streams stop.');
    out.warn('      Free space on that volume, or lower HLS_GC_AGE_THRESHOLD so stale streams go sooner.');
  }
  if (status === 'CRITICAL') {
    out.warn('   🔴 CRITICAL: Very low disk space!');
    out.warn(`      Below ${criticalMb}MB (HLS_DISK_CRITICAL_MB), streams will fail within minutes.`);
    out.warn(action === 'fail'
      ? '      HLS_DISK_CRITICAL_ACTION=fail: the start-up stops here.'
      : '      Starting anyway; HLS_DISK_CRITICAL_ACTION=fail would stop the start-up instead.');
  }
  out.record('disk', { status, path: space.path, free_bytes: space.free, total_bytes: space.total, warn_bytes: warnMb * MIB, critical_bytes: criticalMb * MIB });
  if (status === 'CRITICAL' && action === 'fail') {
    throw new BootstrapError(EXIT.DISK_CRITICAL, `free disk space is critical: ${mb}MB where ${dir} is, `
      + `below HLS_DISK_CRITICAL_MB=${criticalMb}; not starting (HLS_DISK_CRITICAL_ACTION=fail)`);
  }
}
