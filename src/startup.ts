// The startup sequence of `run` and `prepare`: every step in order, each on the configuration resolved first.

import type { ExecUser } from './1-config/parse.ts';
import type { Config } from './1-config/resolve.ts';
import { logHeader, storageStep } from './2-storage/step.ts';
import { diskStep } from './3-disk/step.ts';
import { supervisordStep, paths } from './4-supervisord/step.ts';
import { describeExec, planExec, shellWords, type ExecPlan } from './5-exec/plan.ts';
import { BootstrapError, EXIT } from './errors.ts';
import type { Output } from './output.ts';

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
}

/** Plans the exec before anything is touched: a missing command or a user switch without root stops the start here. */
function planFirst(config: Config, options: StartupOptions): ExecPlan | undefined {
  if (options.exec === undefined) return undefined;
  const user = options.user ?? config.values.EXEC_USER;
  if (user !== undefined && options.euid !== 0) {
    throw new BootstrapError(EXIT.CONFIG, `switching to user ${user.label} (--user or EXEC_USER) needs root, and hls-bootstrap runs as uid ${options.euid}`);
  }
  const argv = options.exec.length > 0 ? options.exec : ['supervisord', '-c', paths(config, { dryRun: options.dryRun, cwd: options.cwd }).output];
  return planExec(argv, config.env, user, options.cwd);
}

/** Runs the startup steps in order; for `run`, returns the exec to perform (none with --dry-run). */
export async function startup(config: Config, out: Output, options: StartupOptions): Promise<ExecPlan | undefined> {
  const plan = planFirst(config, options);
  if (config.values.M3U_PROXY_ENABLED) logHeader(config, out);
  await storageStep(config, out, options);
  await diskStep(config, out, options.cwd);
  if (config.values.M3U_PROXY_ENABLED) out.info('✅ HLS storage configured');
  supervisordStep(config, out, { dryRun: options.dryRun, cwd: options.cwd });
  if (plan === undefined) return undefined;
  out.record('exec', { file: plan.file, argv: plan.argv, user: plan.user ?? null, environment: Object.keys(plan.env).sort() });
  if (options.dryRun) {
    for (const line of describeExec(plan, options.euid)) out.info(`   [dry run] ${line}`);
    return undefined;
  }
  out.info(`▶ exec ${shellWords(plan.argv)}${plan.user === undefined ? '' : ` as ${plan.user.label}`}`);
  return plan;
}
