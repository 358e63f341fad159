// `hls-bootstrap run` (and a bare `hls-bootstrap`): every startup step in order, then the exec.

import type { Command } from 'commander';
import { variablesHelp } from '../1-config/docs.ts';
import { Rejected, execUser, type ExecUser } from '../1-config/parse.ts';
import { BootstrapError, EXIT } from '../errors.ts';
import { startup } from '../startup.ts';
import { READS } from './reads.ts';
import { addGlobalOptions, type Session } from './session.ts';

interface RunOptions {
  readonly user?: string;
  readonly supervise?: true;
}

/** --user, resolved as EXEC_USER is; 78 when it names no one. */
function givenUser(session: Session, text: string | undefined): ExecUser | undefined {
  if (text === undefined) return undefined;
  try {
    return execUser(session.io.context.users)(text);
  } catch (error) {
    if (!(error instanceof Rejected)) throw error;
    throw new BootstrapError(EXIT.CONFIG, `--user ${JSON.stringify(text)} is not valid: ${error.detail ?? 'expected USER[:GROUP]'}`);
  }
}

/** Runs the steps; the exec they plan is left in the session for the router. */
export async function runStartup(session: Session, command: Command, args: readonly string[], opts: RunOptions): Promise<void> {
  const { io } = session;
  const { options, out } = await session.start(command);
  const config = await session.config(options);
  const user = givenUser(session, opts.user);
  const plan = await startup(config, out, {
    dryRun: options.dryRun, euid: io.context.euid, cwd: io.cwd, now: io.now(), exec: { argv: args, user, context: io.context }, stop: io.stop, users: io.context.users,
  });
  if (plan !== undefined) session.pending = { plan, supervise: opts.supervise === true };
}

export function registerRun(program: Command, session: Session): void {
  addGlobalOptions(program.command('run'))
    .summary('every startup step in order, then exec (the ENTRYPOINT; also what a bare hls-bootstrap does)')
    .description('Runs every startup step in order, then replaces itself with supervisord, or with COMMAND when given.')
    .argument('[command...]', 'the command to exec instead of supervisord -c SUPERVISORD_CONF')
    .option('--user <user[:group]>', 'switch to this user before exec, as su-exec does (needs root; default: EXEC_USER)')
    .option('--supervise', 'run the command as a child instead of exec: signals forwarded, its exit status passed on')
    .passThroughOptions()
    .addHelpText('after', () => variablesHelp(READS.run, session.helpWidth()))
    .action((args: string[], opts: RunOptions, command: Command) => runStartup(session, command, args, opts));
}
