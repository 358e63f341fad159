// The storage step's and the sweep's log lines: the old script's, then what was checked, changed and left alone, and why.

import { formatMode } from '../1-config/parse.ts';
import { formatBytes, type Output } from '../output.ts';
import type { StorageResult, WalkReport } from './apply.ts';
import { NAMED } from './jobs.ts';
import { STREAM_DIR_PREFIX, plural } from './names.ts';
import { describePlan, type StoragePlan } from './plan.ts';
import type { SweepReport } from './sweep.ts';

/** "a, b, c", and ", ..." when there were more than those named. */
function named(paths: readonly string[], total: number): string {
  const shown = paths.slice(0, NAMED);
  return `${shown.join(', ')}${total > shown.length ? ', ...' : ''}`;
}

/** The sweep's log lines: what went (each, with --dry-run), what stayed and why, what failed. */
export function logSweep(sweep: SweepReport, out: Output, dryRun: boolean): void {
  const c = sweep.counts;
  const mark = dryRun ? '   [dry run] ' : '   ';
  if (dryRun) for (const name of c.removedNames) out.info(`${mark}would remove ${name}`);
  const kept = [
    c.young > 0 ? `${c.young} too young` : '',
    c.future > 0 ? `${c.future} dated in the future` : '',
    c.notDirectory > 0 ? `${c.notDirectory} not a directory` : '',
    c.foreign > 0 ? `${c.foreign} of other users` : '',
    c.other > 0 ? `${c.other} for other reasons` : '',
  ].filter(Boolean);
  const what = `${plural(c.removed, 'stale stream directory', 'stale stream directories')}, ${formatBytes(c.bytes)}`;
  const keptText = kept.length > 0 ? `; kept ${kept.join(', ')}` : '';
  const time = `${sweep.seconds.toFixed(2)} s${sweep.helpers > 0 ? `, ${sweep.helpers + 1} processes` : ''}`;
  out.info(`${mark}Sweep: ${dryRun ? 'would remove' : 'removed'} ${what}${dryRun ? ' to reclaim' : ' reclaimed'}${keptText} (${time})`);
  if (c.foreign > 0) out.info(`   Kept, other users' in a shared directory: ${named(c.foreignNames, c.foreign)}`);
  if (c.future > 0) out.warn(`   ⚠️  Kept, dated in the future (is a clock wrong?): ${named(c.futureNames, c.future)}`);
  for (const failure of c.failures) out.warn(`   ⚠️  not swept: ${failure}`);
}

/** "Checked 12 entries inside in 0.01 s: re-owned 12; left alone: 3 symbolic links, 1 hard-linked file" */
export function walkSummary(walk: WalkReport, dryRun: boolean): string {
  const c = walk.counts;
  const left = [
    c.symlinks > 0 ? plural(c.symlinks, 'symbolic link') : '',
    c.hardlinks > 0 ? `${plural(c.hardlinks, 'hard-linked file')} (a link may lead outside)` : '',
    c.otherFilesystem > 0 ? `${plural(c.otherFilesystem, 'mount point')} of other filesystems` : '',
    c.devices > 0 ? plural(c.devices, 'device node') : '',
    c.foreign > 0 ? `${plural(c.foreign, 'stream directory', 'stream directories')} of other users` : '',
    c.unreadable > 0 ? plural(c.unreadable, 'unreadable directory', 'unreadable directories') : '',
    c.changed > 0 ? `${plural(c.changed, 'entry', 'entries')} that changed under the walk` : '',
    c.refused > 0 ? `${plural(c.refused, 'entry', 'entries')} the kernel would not re-own` : '',
    c.busy > 0 ? `${plural(c.busy, 'directory only root can write', 'directories only root can write')}, left to another start walking this directory` : '',
  ].filter(Boolean);
  const changed = dryRun ? `would re-own ${c.reowned}` : `re-owned ${c.reowned}`;
  const time = `${walk.seconds.toFixed(2)} s${walk.helpers > 0 ? `, ${walk.helpers + 1} processes` : ''}`;
  const vanished = c.vanished > 0 ? `; ${c.vanished} vanished while it ran` : '';
  return `Checked ${plural(c.checked, 'entry', 'entries')} inside in ${time}: ${changed}${left.length > 0 ? `; left alone: ${left.join(', ')}` : ''}${vanished}`;
}

/** The paths each kind of entry left alone names, after the summary. */
function logWalkPaths(walk: WalkReport, out: Output): void {
  const c = walk.counts;
  if (c.hardlinks > 0) out.warn(`   ⚠️  Hard-linked files not re-owned: ${named(c.hardlinkPaths, c.hardlinks)}`);
  if (c.refused > 0) out.warn(`   ⚠️  Not re-owned, the kernel refused: ${named(c.refusedPaths, c.refused)}`);
  if (c.unreadable > 0) out.warn(`   ⚠️  Could not be entered or read: ${named(c.unreadablePaths, c.unreadable)}`);
  if (c.busy > 0) out.info(`   Left to the start that holds the lock on the directory (another replica?), which re-owns them: ${named(c.busyPaths, c.busy)}`);
  if (c.changed > 0) out.warn(`   ⚠️  Changed while the walk examined them, left alone: ${named(c.changedPaths, c.changed)}`);
  if (c.foreign > 0) out.info(`   Left alone, other users' stream directories in a shared directory: ${named(c.foreignPaths, c.foreign)}`);
  if (c.vanished > 0) out.info(`   Vanished while the walk ran: ${named(c.vanishedPaths, c.vanished)}`);
}

/** The owner line: what was set, or that it could not be and what the directory is now. */
function ownerLine(plan: StoragePlan, result: StorageResult, euid: number, who: (uid: number, gid: number) => string): string {
  const wanted = `${plan.owner.label} (${plan.owner.uid}:${plan.owner.gid}), mode ${formatMode(plan.mode)}`;
  const missed = [plan.chown && !result.chowned ? 'the owner' : '', plan.chmod && !result.chmodded ? 'the mode' : ''].filter(Boolean);
  if (missed.length === 0) {
    const did = [result.chowned ? 'owner set' : '', result.chmodded ? 'mode set' : ''].filter(Boolean).join(', ') || 'already right';
    return `   Owner ${wanted}: ${did}`;
  }
  const now = result.now === undefined ? '' : `; it is ${who(result.now.uid, result.now.gid)}, mode ${formatMode(result.now.mode)}`;
  return `   Owner ${wanted}: not permitted to set ${missed.join(' or ')} as uid ${euid}${now}`;
}

/** Everything the storage step says once it is done, for whichever directory it prepared. */
export function logResult(plan: StoragePlan, result: StorageResult, out: Output, options: { dryRun: boolean; euid: number; who: (uid: number, gid: number) => string }): void {
  const mark = options.dryRun ? '   [dry run] ' : '   ';
  if (plan.create.length > 0) {
    out.info(`${mark}Creating ${plan.target.noun} directory...`);
    if (!options.dryRun) out.info(out.paint.ok(`   ✅ Created: ${plan.path}`));
  } else {
    out.info(out.paint.ok(`   ✅ Directory exists: ${plan.path}`));
  }
  if (options.dryRun) {
    for (const line of describePlan(plan)) out.info(`${mark}${line}`);
  } else if (plan.shared) {
    out.info(`   ${plan.path} is a shared sticky directory: it keeps its owner and mode; `
      + `only the proxy's ${STREAM_DIR_PREFIX}* directories in it, root's or ${plan.owner.label.split(':')[0] ?? ''}'s, are re-owned`);
  } else {
    out.info(ownerLine(plan, result, options.euid, options.who));
  }
  if (result.sweep !== undefined) logSweep(result.sweep, out, options.dryRun);
  if (result.walk !== undefined) {
    out.info(`${mark}${walkSummary(result.walk, options.dryRun)}`);
    logWalkPaths(result.walk, out);
  }
  for (const warning of result.warnings) out.warn(`   ⚠️  ${warning}`);
}
