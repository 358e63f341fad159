// The storage step: observe HLS_TEMP_DIR, plan, apply (or print the plan), and report as the old script did.

import { formatMode } from '../1-config/parse.ts';
import type { Config } from '../1-config/resolve.ts';
import { formatBytes, type Output } from '../output.ts';
import type { Stop } from '../stop.ts';
import { applyStorage, withinHlsDir, type StorageResult, type WalkReport } from './apply.ts';
import { observe } from './observe.ts';
import { describePlan, planStorage, STREAM_DIR_PREFIX, type StoragePlan } from './plan.ts';
import { sweepHere, type SweepReport } from './sweep.ts';

export interface StepOptions {
  readonly dryRun: boolean;
  readonly euid: number;
  /** Milliseconds since the epoch; the sweep's "now". */
  readonly now: number;
  /** A stop request ends the step at its next safe point. */
  readonly stop: Stop;
}

/** Why the startup sweep is off, or undefined when it is on. */
function sweepOff(config: Config): string | undefined {
  if (!config.values.HLS_STARTUP_SWEEP) return 'HLS_STARTUP_SWEEP=false';
  if (!config.values.HLS_GC_ENABLED) return 'HLS_GC_ENABLED=false';
  return undefined;
}

/** The sweep's log lines: what went (each, with --dry-run), what stayed and why, what failed. */
export function logSweep(sweep: SweepReport, out: Output, dryRun: boolean): void {
  const c = sweep.counts;
  const mark = dryRun ? '   [dry run] ' : '   ';
  if (dryRun) for (const name of c.removedNames) out.info(`${mark}would remove ${name}`);
  const kept = [
    c.young > 0 ? `${c.young} too young` : '',
    c.notDirectory > 0 ? `${c.notDirectory} not a directory` : '',
    c.other > 0 ? `${c.other} for other reasons` : '',
  ].filter(Boolean);
  const what = `${plural(c.removed, 'stale stream directory', 'stale stream directories')}, ${formatBytes(c.bytes)}`;
  const keptText = kept.length > 0 ? `; kept ${kept.join(', ')}` : '';
  const time = `${sweep.seconds.toFixed(2)} s${sweep.helpers > 0 ? `, ${sweep.helpers + 1} processes` : ''}`;
  out.info(`${mark}Sweep: ${dryRun ? 'would remove' : 'removed'} ${what}${dryRun ? ' to reclaim' : ' reclaimed'}${keptText} (${time})`);
  for (const failure of c.failures) out.warn(`   ⚠️  not swept: ${failure}`);
}

/** The old script's opening lines of the HLS block. */
export function logHeader(config: Config, out: Output): void {
  out.info(out.paint.bold('🎬 Configuring HLS segment storage...'));
  out.info(`   HLS_TEMP_DIR: ${config.text.HLS_TEMP_DIR}`);
  out.info(`   HLS_GC_ENABLED: ${config.text.HLS_GC_ENABLED}`);
  out.info(`   HLS_GC_INTERVAL: ${config.text.HLS_GC_INTERVAL}s`);
  out.info(`   HLS_GC_AGE_THRESHOLD: ${config.text.HLS_GC_AGE_THRESHOLD}s`);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "re-owned 12; left alone: 3 symbolic links, 1 hard-linked file" */
export function walkSummary(walk: WalkReport, dryRun: boolean): string {
  const c = walk.counts;
  const left = [
    c.symlinks > 0 ? plural(c.symlinks, 'symbolic link') : '',
    c.hardlinks > 0 ? `${plural(c.hardlinks, 'hard-linked file')} (a link may lead outside)` : '',
    c.otherFilesystem > 0 ? `${plural(c.otherFilesystem, 'mount point')} of other filesystems` : '',
    c.devices > 0 ? plural(c.devices, 'device node') : '',
    c.undecodable > 0 ? `${plural(c.undecodable, 'name')} that are not UTF-8` : '',
    c.unreadable > 0 ? plural(c.unreadable, 'unreadable directory', 'unreadable directories') : '',
  ].filter(Boolean);
  const changed = dryRun ? `would re-own ${c.reowned}` : `re-owned ${c.reowned}`;
  const time = `${walk.seconds.toFixed(2)} s${walk.helpers > 0 ? `, ${walk.helpers + 1} processes` : ''}`;
  return `Checked ${plural(c.checked, 'entry', 'entries')} inside in ${time}: ${changed}${left.length > 0 ? `; left alone: ${left.join(', ')}` : ''}`;
}

function logResult(plan: StoragePlan, result: StorageResult, out: Output, dryRun: boolean): void {
  const mark = dryRun ? '   [dry run] ' : '   ';
  if (plan.create.length > 0) {
    out.info(`${mark}Creating HLS storage directory...`);
    if (!dryRun) out.info(out.paint.ok(`   ✅ Created: ${plan.path}`));
  } else {
    out.info(out.paint.ok(`   ✅ Directory exists: ${plan.path}`));
  }
  if (dryRun) {
    for (const line of describePlan(plan)) out.info(`${mark}${line}`);
  } else if (plan.shared) {
    out.info(`   ${plan.path} is a shared sticky directory: it keeps its owner and mode; `
      + `only the proxy's ${STREAM_DIR_PREFIX}* directories in it are re-owned`);
  } else {
    const did = [result.chowned ? 'owner set' : '', result.chmodded ? 'mode set' : ''].filter(Boolean).join(', ') || 'already right';
    out.info(`   Owner ${plan.owner.label} (${plan.owner.uid}:${plan.owner.gid}), mode ${formatMode(plan.mode)}: ${did}`);
  }
  if (result.sweep !== undefined) logSweep(result.sweep, out, dryRun);
  if (result.walk !== undefined) out.info(`${mark}${walkSummary(result.walk, dryRun)}`);
  const paths = result.walk?.counts.hardlinkPaths ?? [];
  if (paths.length > 0) out.warn(`   ⚠️  Hard-linked files not re-owned: ${paths.join(', ')}${(result.walk?.counts.hardlinks ?? 0) > paths.length ? ', ...' : ''}`);
  for (const warning of result.warnings) out.warn(`   ⚠️  ${warning}`);
}

/** Prepares HLS_TEMP_DIR, or with `dryRun` prints what it would do. */
export async function storageStep(config: Config, out: Output, options: StepOptions): Promise<void> {
  if (!config.values.M3U_PROXY_ENABLED) {
    out.info('   HLS storage skipped: M3U_PROXY_ENABLED=false, an external proxy owns it');
    out.record('storage', { skipped: 'M3U_PROXY_ENABLED=false' });
    return;
  }
  const { WWWUSER: user, WWWGROUP: group } = config.values;
  const owner = { uid: user.id, gid: group.id, label: `${config.text.WWWUSER}:${config.text.WWWGROUP}` };
  const plan = planStorage(observe(config.values.HLS_TEMP_DIR), owner, config.values.HLS_DIR_MODE);
  const progress = (checked: number): void => {
    out.progress(`   Checking: ${checked} entries`);
  };
  const off = sweepOff(config);
  if (off !== undefined) out.info(`   Sweep skipped: ${off}`);
  const sweep = off === undefined ? { ageSeconds: config.values.HLS_GC_AGE_THRESHOLD, now: options.now } : undefined;
  let result: StorageResult;
  try {
    result = await applyStorage(plan, { apply: !options.dryRun, euid: options.euid, sweep, progress });
  } finally {
    out.progressDone();
  }
  logResult(plan, result, out, options.dryRun);
  out.record('storage', { plan, result });
}

/** `hls-bootstrap sweep`: the sweep alone, by hand or from cron, whatever HLS_STARTUP_SWEEP says. */
export async function sweepStep(config: Config, out: Output, options: StepOptions): Promise<void> {
  const observation = observe(config.values.HLS_TEMP_DIR);
  if (observation.current === undefined) {
    out.info(`   Nothing to sweep: ${config.values.HLS_TEMP_DIR} does not exist`);
    out.record('sweep', { path: config.values.HLS_TEMP_DIR, exists: false });
    return;
  }
  let sweep: SweepReport;
  try {
    sweep = await withinHlsDir(observation.path, (root) => sweepHere(root, {
      ageSeconds: config.values.HLS_GC_AGE_THRESHOLD, now: options.now, apply: !options.dryRun,
    }, (checked) => {
      out.progress(`   Sweeping: ${checked} entries`);
    }));
  } finally {
    out.progressDone();
  }
  logSweep(sweep, out, options.dryRun);
  out.record('sweep', { path: observation.path, ...sweep });
}
