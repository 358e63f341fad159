// The startup sequence of `run` and `prepare`: every step in order, each on the configuration resolved first.

import { hostWarning, notEmbedded } from './1-config/embedded.ts';
import type { ExecUser } from './1-config/parse.ts';
import type { Config } from './1-config/resolve.ts';
import { broadcastStep, checkBroadcast } from './2-storage/broadcast.ts';
import type { UserDb } from './1-config/users.ts';
import type { Context } from './1-config/variables.ts';
import { logHeader, storageStep } from './2-storage/step.ts';
import { diskStep } from './3-disk/step.ts';
import { applySupervisord, planSupervisord, type SupervisordPlan } from './4-supervisord/step.ts';
import { userProblems } from './4-supervisord/users.ts';
import { currentCredentials } from './5-exec/credentials.ts';
import { describeExec, planExec, shellWords, type ExecPlan } from './5-exec/plan.ts';
import { BootstrapError, EXIT } from './errors.ts';
import type { Output } from './output.ts';
import { abandonable, type Stop } from './stop.ts';

/** What `run` asks to exec, and who runs it. */
export interface ExecRequest {
  /** The command (empty: supervisord on the rendered config). */
  readonly argv: readonly string[];
  /** --user, which wins over EXEC_USER. */
  readonly user: ExecUser | undefined;
  /** The user databases and this process's ids. */
  readonly context: Context;
}

export interface StartupOptions {
  readonly dryRun: boolean;
  readonly euid: number;
  readonly cwd: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** `run`: what to exec; `prepare`: undefined. */
  readonly exec: ExecRequest | undefined;
  /** Checked between steps, and by long steps at their safe points. */
  readonly stop: Stop;
  /** The user and group databases the configuration was resolved with. */
  readonly users: UserDb;
}

/**
 * Plans the exec before any step: a command that execve would refuse, a user switch that cannot
 * work, and, when supervisord is the target, a user= it could not switch to, each stop the start.
 */
function planExecFirst(config: Config, supervisord: SupervisordPlan, options: StartupOptions): ExecPlan | undefined {
  const { exec } = options;
  if (exec === undefined) return undefined;
  const user = exec.user ?? config.values.EXEC_USER;
  if (user !== undefined && options.euid !== 0) {
    throw new BootstrapError(EXIT.CONFIG, `switching to user ${user.label} (--user or EXEC_USER) needs root, and hls-bootstrap runs as uid ${options.euid}`);
  }
  const argv = exec.argv.length > 0 ? exec.argv : ['supervisord', '-c', supervisord.where.output];
  const plan = planExec(argv, config.env, user, options.cwd, currentCredentials({ euid: options.euid, egid: exec.context.egid }));
  if (exec.argv.length === 0) {
    const context = { env: plan.env, users: exec.context.users, uid: user?.uid ?? options.euid, path: supervisord.where.output };
    const problems = userProblems(supervisord.rendered.text, context);
    if (problems.length > 0) throw new BootstrapError(EXIT.CONFIG, problems);
  }
  return plan;
}

/** The HLS block of upstream's start script, in embedded mode only: the header, storage, disk, and broadcast storage. */
async function hlsSteps(config: Config, out: Output, options: StartupOptions): Promise<void> {
  const off = notEmbedded(config.values);
  if (off !== undefined) {
    // The proxy runs elsewhere, or not at all: its storage is not this container's business.
    out.info(`   HLS storage skipped: ${off}, the proxy does not run in this container`);
    for (const step of ['storage', 'disk', 'broadcast']) out.record(step, { skipped: off });
    return;
  }
  const { stop } = options;
  logHeader(config, out);
  out.info(`   BROADCAST_GC_ENABLED: ${config.text.BROADCAST_GC_ENABLED}`);
  await storageStep(config, out, options);
  stop.check('the storage step');
  await abandonable(stop, 'the disk step', () => diskStep(config, out, options.cwd));
  stop.check('the disk step');
  out.info(out.paint.ok('✅ HLS storage configured'));
  await broadcastStep(config, out, options);
  stop.check('the broadcast storage step');
}

/** Runs the startup steps in order; for `run`, returns the exec to perform (none with --dry-run). */
export async function startup(config: Config, out: Output, options: StartupOptions): Promise<ExecPlan | undefined> {
  // What can be refused is refused before anything is touched: the config to render, the command,
  // a broadcast directory that links lead astray.
  const supervisord = planSupervisord(config, { dryRun: options.dryRun, cwd: options.cwd, euid: options.euid });
  const plan = planExecFirst(config, supervisord, options);
  if (notEmbedded(config.values) === undefined) checkBroadcast(config);
  const { stop } = options;
  stop.check('the configuration');
  for (const line of hostWarning(config.values)) out.warn(line);
  await hlsSteps(config, out, options);
  applySupervisord(supervisord, out, options.dryRun);
  stop.check('the supervisord step');
  if (plan === undefined) return undefined;
  out.record('exec', { file: plan.file, argv: plan.argv, user: plan.user ?? null, environment: Object.keys(plan.env).sort() });
  if (options.dryRun) {
    for (const line of describeExec(plan, options.euid)) out.info(`   [dry run] ${line}`);
    return undefined;
  }
  out.info(`▶ exec ${shellWords(plan.argv)}${plan.user === undefined ? '' : ` as ${plan.user.label}`}`);
  return plan;
}
