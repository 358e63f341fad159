// The storage step and the sweep command: observe a directory, plan, apply (or print the plan), and report.

import type { Config } from '../1-config/resolve.ts';
import type { UserDb } from '../1-config/users.ts';
import type { Output } from '../output.ts';
import type { Stop } from '../stop.ts';
import { applyStorage, type StorageResult } from './apply.ts';
import { logResult, logSweep } from './log.ts';
import { plural } from './names.ts';
import { observe, type Observation, type Target } from './observe.ts';
import { isShared, planStorage, type StoragePlan } from './plan.ts';
import type { ProxyUser } from './reach.ts';
import { sweepHere, type SweepReport } from './sweep.ts';
import { withinDir } from './top.ts';
import { parallel, place } from './walk-tree.ts';

export interface StepOptions {
  readonly dryRun: boolean;
  readonly euid: number;
  /** Milliseconds since the epoch; the sweep's "now". */
  readonly now: number;
  /** A stop request ends the step at its next safe point. */
  readonly stop: Stop;
  /** The user and group databases, for WWWUSER's groups and owners' names: the ones the configuration was resolved with. */
  readonly users: UserDb;
}

/** Why the startup sweep is off, or undefined when it is on. */
function sweepOff(config: Config): string | undefined {
  if (!config.values.HLS_STARTUP_SWEEP) return 'HLS_STARTUP_SWEEP=false';
  if (!config.values.HLS_GC_ENABLED) return 'HLS_GC_ENABLED=false';
  return undefined;
}

/** The old script's opening lines of the HLS block. */
export function logHeader(config: Config, out: Output): void {
  out.info(out.paint.bold('🎬 Configuring HLS segment storage...'));
  out.info(`   HLS_TEMP_DIR: ${config.text.HLS_TEMP_DIR}`);
  out.info(`   HLS_GC_ENABLED: ${config.text.HLS_GC_ENABLED}`);
  out.info(`   HLS_GC_INTERVAL: ${config.text.HLS_GC_INTERVAL}s`);
  out.info(`   HLS_GC_AGE_THRESHOLD: ${config.text.HLS_GC_AGE_THRESHOLD}s`);
}

/** WWWUSER as the kernel will check it: its uid, its primary group (WWWGROUP without an entry) and its supplementary groups. */
function proxyUser(config: Config, users: UserDb): ProxyUser {
  const { WWWUSER: user, WWWGROUP: group } = config.values;
  const entry = user.name === undefined ? users.userById(user.id) : users.userByName(user.name);
  const gids = entry === undefined ? [group.id] : [entry.gid, ...users.groupsOf(entry.name)];
  return { uid: user.id, gids, label: `WWWUSER ${config.text.WWWUSER} (uid ${user.id})` };
}

/** "uid 1234 (alice)", or "uid 1234" without an entry. */
function ownerOf(users: UserDb): (uid: number) => string {
  return (uid) => {
    const name = users.userById(uid)?.name;
    return name === undefined ? `uid ${uid}` : `uid ${uid} (${name})`;
  };
}

/** "alice:staff (1000:50)". */
function ownerAndGroup(users: UserDb): (uid: number, gid: number) => string {
  return (uid, gid) => `${users.userById(uid)?.name ?? uid}:${users.groupById(gid)?.name ?? gid} (${uid}:${gid})`;
}

/** HLS_TEMP_DIR, as the storage step prepares and names it. */
export function hlsTarget(config: Config): Target {
  return { variable: 'HLS_TEMP_DIR', path: config.values.HLS_TEMP_DIR, noun: 'HLS storage', step: 'the storage step' };
}

/**
 * Prepares `target` (observed already) for WWWUSER:WWWGROUP and HLS_DIR_MODE, sweeping it first with
 * `sweep`; with `dryRun`, says what it would do. Returns what the --json document records.
 */
export async function prepareDirectory(observed: Observation, config: Config, out: Output, options: StepOptions & { readonly sweep: boolean }): Promise<{ plan: StoragePlan; result: StorageResult }> {
  const { users } = options;
  const { WWWUSER: user, WWWGROUP: group } = config.values;
  const owner = { uid: user.id, gid: group.id, label: `${config.text.WWWUSER}:${config.text.WWWGROUP}` };
  const plan = planStorage(observed, owner, config.values.HLS_DIR_MODE);
  const progress = (checked: number): void => {
    out.progress(`   Checking: ${plural(checked, 'entry', 'entries')}`);
  };
  const sweep = options.sweep ? { ageSeconds: config.values.HLS_GC_AGE_THRESHOLD, now: options.now } : undefined;
  let result: StorageResult;
  try {
    result = await applyStorage(plan, {
      apply: !options.dryRun, euid: options.euid, sweep, progress, stop: options.stop,
      proxyUser: proxyUser(config, users), describeOwner: ownerOf(users),
    });
  } finally {
    out.progressDone();
  }
  logResult(plan, result, out, { dryRun: options.dryRun, euid: options.euid, who: ownerAndGroup(users) });
  return { plan, result };
}

/** Prepares HLS_TEMP_DIR, sweeping it first unless the sweep is off, or with `dryRun` prints what it would do. */
export async function storageStep(config: Config, out: Output, options: StepOptions): Promise<void> {
  const off = sweepOff(config);
  if (off !== undefined) out.info(`   Sweep skipped: ${off}`);
  out.record('storage', await prepareDirectory(observe(hlsTarget(config), options.euid), config, out, { ...options, sweep: off === undefined }));
}

/** `hls-bootstrap sweep`: the sweep alone, by hand or from cron, whatever HLS_STARTUP_SWEEP says. */
export async function sweepStep(config: Config, out: Output, options: StepOptions): Promise<void> {
  const observation = observe(hlsTarget(config), options.euid);
  if (observation.current === undefined) {
    out.info(`   Nothing to sweep: ${config.values.HLS_TEMP_DIR} does not exist`);
    out.record('sweep', { path: config.values.HLS_TEMP_DIR, exists: false });
    return;
  }
  const { users } = options;
  const progress = (checked: number): void => {
    out.progress(`   Sweeping: ${plural(checked, 'entry', 'entries')}`);
  };
  let sweep: SweepReport;
  try {
    sweep = await withinDir(observation.target, options.euid, (home) => sweepHere(place(home.fd, 'the sweep', options.stop), {
      target: observation.target, ageSeconds: config.values.HLS_GC_AGE_THRESHOLD, now: options.now, apply: !options.dryRun,
      owners: isShared(home.stat.mode) ? [0, config.values.WWWUSER.id] : undefined, describeOwner: ownerOf(users),
    }, parallel({ progress, stop: options.stop })));
  } finally {
    out.progressDone();
  }
  logSweep(sweep, out, options.dryRun);
  out.record('sweep', { path: observation.path, ...sweep });
}
