// The startup sequence of `run` and `prepare`: every step in order, each on the configuration resolved first.

import type { ExecUser } from './1-config/parse.ts';
import type { Config } from './1-config/resolve.ts';
import { logHeader, storageStep } from './2-storage/step.ts';
import { diskStep } from './3-disk/step.ts';
import { applySupervisord, planSupervisord, type SupervisordPlan } from './4-supervisord/step.ts';
import { describeExec, planExec, shellWords, type ExecPlan } from './5-exec/plan.ts';
import { BootstrapError, EXIT } from './errors.ts';
import type { Output } from './output.ts';
import type { Stop } from './stop.ts';

export interface StartupOptions {
  readonly dryRun: boolean;
  readonly euid: number;
  readonly cwd: string;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** `run`: the command to exec (empty: supervisord on the rendered config); `prepare`: undefined. */
  readonly exec: readonly string[] | undefined;
  /** --user, which wins over EXEC_USER. */
  readonly user?: ExecUser | undefined;
  /** Checked between steps, and by long steps at their safe points. */
  readonly stop: Stop;
}

/** Plans the exec: a missing command or a user switch without root stops the start before any step. */
function planExecFirst(config: Config, supervisord: SupervisordPlan, options: StartupOptions): ExecPlan | undefined {
  if (options.exec === undefined) return undefined;
  const user = options.user ?? config.values.EXEC_USER;
  if (user !== undefined && options.euid !== 0) {
    throw new BootstrapError(EXIT.CONFIG, `switching to user ${user.label} (--user or EXEC_USER) needs root, and hls-bootstrap runs as uid ${options.euid}`);
  }
  const argv = options.exec.length > 0 ? options.exec : ['supervisord', '-c', supervisord.where.output];
  return planExec(argv, config.env, user, options.cwd);
}

/** Runs the startup steps in order; for `run`, returns the exec to perform (none with --dry-run). */
export async function startup(config: Config, out: Output, options: StartupOptions): Promise<ExecPlan | undefined> {
  // What can be refused is refused before anything is touched: the config to render, the command.
  const supervisord = planSupervisord(config, { dryRun: options.dryRun, cwd: options.cwd, euid: options.euid });
  const plan = planExecFirst(config, supervisord, options);
  const { stop } = options;
  stop.check('the configuration');
  if (config.values.M3U_PROXY_ENABLED) logHeader(config, out);
  await storageStep(config, out, options);
  stop.check('the storage step');
  await diskStep(config, out, options.cwd);
  stop.check('the disk step');
  if (config.values.M3U_PROXY_ENABLED) out.info(out.paint.ok('✅ HLS storage configured'));
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
