// The startup sequence of `run` and `prepare`: every step in order, each on the configuration resolved first.

import type { Config } from './1-config/resolve.ts';
import { logHeader, storageStep } from './2-storage/step.ts';
import { diskStep } from './3-disk/step.ts';
import { supervisordStep } from './4-supervisord/step.ts';
import { BootstrapError, EXIT } from './errors.ts';
import type { Output } from './output.ts';

export interface StartupOptions {
  readonly dryRun: boolean;
  readonly euid: number;
  readonly cwd: string;
  /** `run`: exec after the steps; `prepare`: stop after them. */
  readonly exec: boolean;
}

function notBuilt(step: string): never {
  throw new BootstrapError(EXIT.UNAVAILABLE, `the ${step} step is not part of this build yet; the steps before it ran`);
}

/** Runs the startup steps in order. */
export async function startup(config: Config, out: Output, options: StartupOptions): Promise<void> {
  if (config.values.M3U_PROXY_ENABLED) logHeader(config, out);
  await storageStep(config, out, options);
  await diskStep(config, out, options.cwd);
  if (config.values.M3U_PROXY_ENABLED) out.info('✅ HLS storage configured');
  supervisordStep(config, out, { dryRun: options.dryRun, cwd: options.cwd });
  if (options.exec) notBuilt('exec');
}
