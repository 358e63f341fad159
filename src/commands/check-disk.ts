// `hls-bootstrap check-disk`: the disk check alone, for a person, Docker's HEALTHCHECK and monitoring.

import type { Command } from 'commander';
import { variablesHelp } from '../1-config/docs.ts';
import type { Config } from '../1-config/resolve.ts';
import { CHECK_EXIT, HEALTHCHECK_EXIT, checkDisk, report, type CheckDiskOptions } from '../3-disk/check-disk.ts';
import { BootstrapError } from '../errors.ts';
import { READS } from './reads.ts';
import { addGlobalOptions, type Session } from './session.ts';

export function registerCheckDisk(program: Command, session: Session): void {
  addGlobalOptions(program.command('check-disk'))
    .summary('the disk check alone')
    .description('Checks the free space of the filesystem that holds HLS_TEMP_DIR (or its nearest existing parent). '
      + 'Prints one monitoring-plugins line, or with --json one object; exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.')
    .option('--path <dir>', 'the directory to check (default: HLS_TEMP_DIR)')
    .option('--warn <size>', 'warn below this: 2G, 500M, 524288K, a number of MiB, or 10% (default: HLS_DISK_WARN_MB)')
    .option('--critical <size>', 'critical below this, as --warn (default: HLS_DISK_CRITICAL_MB)')
    .option('--healthcheck', "for Docker's HEALTHCHECK: exit 0 for OK and WARNING, 1 for CRITICAL and UNKNOWN")
    .exitOverride((error) => {
      // Usage errors are UNKNOWN here, the monitoring convention; commander has printed the reason.
      if (error.exitCode === 0) throw error;
      throw new BootstrapError(session.io.argv.includes('--healthcheck') ? HEALTHCHECK_EXIT.UNKNOWN : CHECK_EXIT.UNKNOWN, []);
    })
    .addHelpText('after', () => variablesHelp(READS['check-disk'], session.helpWidth(), 'makes it UNKNOWN'))
    .action(async (opts: CheckDiskOptions & { healthcheck?: true }, command: Command) => {
      const { options, out } = await session.start(command, true);
      let config: Config | BootstrapError;
      try {
        config = await session.config(options);
      } catch (error) {
        if (!(error instanceof BootstrapError)) throw error;
        config = error;
      }
      const result = await checkDisk(config, opts, session.io.cwd);
      const { text, exitCode } = report(result, { json: options.json, healthcheck: opts.healthcheck === true });
      out.result(text);
      session.exitCode = exitCode;
    });
}
