// `hls-bootstrap sweep`: remove the stream directories a crashed proxy left behind, by hand or from cron.

import type { Command } from 'commander';
import { variablesHelp } from '../1-config/docs.ts';
import { sweepStep } from '../2-storage/step.ts';
import { READS } from './reads.ts';
import { addGlobalOptions, type Session } from './session.ts';

export function registerSweep(program: Command, session: Session): void {
  addGlobalOptions(program.command('sweep'))
    .summary('remove the stream directories a crashed proxy left behind, alone (by hand or from cron)')
    .description('Removes every m3u_proxy_hls_* directory in HLS_TEMP_DIR whose newest entry is older than '
      + 'HLS_GC_AGE_THRESHOLD, as the startup does before re-owning, whatever HLS_STARTUP_SWEEP says. '
      + 'It never follows a link and never enters another filesystem; --dry-run lists what would go.')
    .addHelpText('after', () => variablesHelp(READS.sweep, session.helpWidth()))
    .action(async (_opts: unknown, command: Command) => {
      const { io } = session;
      const { options, out } = await session.start(command);
      const config = await session.config(options);
      await sweepStep(config, out, { dryRun: options.dryRun, euid: io.context.euid, now: io.now(), stop: io.stop, users: io.context.users });
    });
}
