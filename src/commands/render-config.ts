// `hls-bootstrap render-config`: the supervisord config alone, written or checked (CI's render-config --check).

import type { Command } from 'commander';
import { variablesHelp } from '../1-config/docs.ts';
import { checkRendered } from '../4-supervisord/check.ts';
import { applySupervisord, paths, planSupervisord, renderFrom } from '../4-supervisord/step.ts';
import { BootstrapError, EXIT } from '../errors.ts';
import { READS } from './reads.ts';
import { addGlobalOptions, type Session } from './session.ts';

interface RenderConfigOptions {
  readonly template?: string;
  readonly output?: string;
  readonly check?: true;
}

export function registerRenderConfig(program: Command, session: Session): void {
  addGlobalOptions(program.command('render-config'))
    .summary('render the supervisord config alone')
    .description('Renders the environment= line of [program:m3u-proxy] from the configuration into the template '
      + "and writes the result atomically (mode 0600: it holds the proxy's token). Values supervisord could not "
      + 'pass on exactly are refused, as are %(ENV_X)s references to variables that are not set.')
    .option('--template <path>', 'the template (default: SUPERVISORD_TEMPLATE)')
    .option('-o, --output <path>', 'where to write the config, - for stdout (default: SUPERVISORD_CONF)')
    .option('--check', 'render to a temporary file and validate it, starting supervisord on it if it is on PATH; exit 0 or 78')
    .addHelpText('after', () => variablesHelp(READS['render-config'], session.helpWidth()))
    .action(async (opts: RenderConfigOptions, command: Command) => {
      const { io } = session;
      const { options, out } = await session.start(command, opts.output === '-' && opts.check !== true);
      const config = await session.config(options);
      const render = { ...opts, dryRun: options.dryRun, cwd: io.cwd, euid: io.context.euid };
      if (opts.check !== true) {
        applySupervisord(planSupervisord(config, render), out, options.dryRun);
        return;
      }
      const where = paths(config, render);
      const checked = await checkRendered(renderFrom(config, where, io.context.euid), config.env, io.cwd, io.stop);
      out.info(`Checking the supervisord config rendered from ${where.template}`);
      for (const line of checked.passed) out.info(`   ✅ ${line}`);
      out.record('check', checked);
      if (checked.problems.length > 0) throw new BootstrapError(EXIT.CONFIG, checked.problems);
    });
}
