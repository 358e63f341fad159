// `hls-bootstrap env`: the resolved configuration as shell, dotenv or JSON text.

import { Option, type Command } from 'commander';
import { variablesHelp } from '../1-config/docs.ts';
import { ENV_FORMATS, formatEnv, type EnvFormat } from '../1-config/env-format.ts';
import { READS } from './reads.ts';
import { addGlobalOptions, type Session } from './session.ts';

export function registerEnv(program: Command, session: Session): void {
  addGlobalOptions(program.command('env'))
    .summary('print the resolved configuration')
    .description('Prints every variable as the startup would resolve it: defaults filled in, values normalised.')
    .addOption(new Option('--format <format>', 'shell (export lines to eval), dotenv, or json (one object)')
      .choices(ENV_FORMATS).default('shell'))
    .option('--show-secrets', 'print secrets such as M3U_PROXY_TOKEN instead of hiding them')
    .addHelpText('after', () => variablesHelp(READS.env, session.helpWidth()))
    .action(async (opts: { format: EnvFormat; showSecrets?: true }, command: Command) => {
      const { options, out } = await session.start(command, true);
      const config = await session.config(options);
      const format = options.json ? 'json' : opts.format;
      out.result(await formatEnv(config, format, opts.showSecrets === true));
      if (opts.showSecrets !== true && !options.quiet) out.warn('hls-bootstrap: M3U_PROXY_TOKEN is hidden; pass --show-secrets to print it');
    });
}
