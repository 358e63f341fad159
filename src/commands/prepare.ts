// `hls-bootstrap prepare`: every startup step, no exec (an init container, CI, a human).

import type { Command } from 'commander';
import { variablesHelp } from '../1-config/docs.ts';
import { startup } from '../startup.ts';
import { READS } from './reads.ts';
import { addGlobalOptions, type Session } from './session.ts';

export function registerPrepare(program: Command, session: Session): void {
  addGlobalOptions(program.command('prepare'))
    .summary('every startup step, no exec (for an init container, CI, or a human)')
    .description('Runs every startup step in order and exits instead of exec\'ing.')
    .addHelpText('after', () => variablesHelp(READS.prepare, session.helpWidth()))
    .action(async (_opts: unknown, command: Command) => {
      const { io } = session;
      const { options, out } = await session.start(command);
      const config = await session.config(options);
      await startup(config, out, { dryRun: options.dryRun, euid: io.context.euid, cwd: io.cwd, now: io.now(), exec: undefined, stop: io.stop, users: io.context.users });
    });
}
