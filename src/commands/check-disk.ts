// `hls-bootstrap check-disk`: the disk check alone, for a person, Docker's HEALTHCHECK and monitoring.
// Whatever happens, it prints one status line (or one JSON object) and exits with a plugin status.

import type { Command } from 'commander';
import { variablesHelp } from '../1-config/docs.ts';
import type { Config } from '../1-config/resolve.ts';
import { checkDisk, type CheckDiskOptions } from '../3-disk/check-disk.ts';
import { report, unknownResult, type CheckResult } from '../3-disk/report.ts';
import { BootstrapError } from '../errors.ts';
import { READS } from './reads.ts';
import { addGlobalOptions, type Session } from './session.ts';

interface Flags extends CheckDiskOptions {
  readonly healthcheck?: true;
}

/** Prints `result` as asked and returns the exit code for it. */
function print(session: Session, result: CheckResult, mode: { json: boolean; healthcheck: boolean }): number {
  const { text, exitCode } = report(result, mode);
  session.io.stdout.write(text);
  return exitCode;
}

async function run(session: Session, flags: Flags, command: Command): Promise<void> {
  const { options } = await session.start(command, true);
  const mode = { json: options.json, healthcheck: flags.healthcheck === true };
  let result: CheckResult;
  try {
    let config: Config | BootstrapError;
    try {
      config = await session.config(options);
    } catch (error) {
      if (!(error instanceof BootstrapError)) throw error;
      config = error;
    }
    result = checkDisk(config, flags, session.io.cwd);
  } catch (error) {
    // A bug still gets a status line a monitoring system can read; the stack goes to stderr for the report.
    session.io.stderr.write(`hls-bootstrap: internal error, this is a bug:\n${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    result = unknownResult(flags.path ?? '', `internal error, this is a bug: ${error instanceof Error ? error.message : String(error)}`);
  }
  session.exitCode = print(session, result, mode);
}

export function registerCheckDisk(program: Command, session: Session): void {
  const argv = session.io.argv;
  addGlobalOptions(program.command('check-disk'))
    .summary('the disk check alone')
    .description('Checks the free space and free inodes of the filesystem that holds HLS_TEMP_DIR (or its nearest existing parent). '
      + 'Prints one monitoring-plugins line, or with --json one object; exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.')
    .option('--path <dir>', 'the directory to check (default: HLS_TEMP_DIR)')
    .option('--warn <size>', 'warn below this free space: 2G, 500M, 524288K, a number of MiB, or 10% (default: HLS_DISK_WARN_MB)')
    .option('--critical <size>', 'critical below this, as --warn (default: HLS_DISK_CRITICAL_MB)')
    .option('--inode-warn <percent>', 'warn below this share of free inodes: 10 or 2.5% (default: HLS_DISK_INODES_WARN_PERCENT)')
    .option('--inode-critical <percent>', 'critical below this, as --inode-warn (default: HLS_DISK_INODES_CRITICAL_PERCENT)')
    .option('--healthcheck', "for Docker's HEALTHCHECK: exit 0 for OK and WARNING, 1 for CRITICAL and UNKNOWN")
    // Usage errors are UNKNOWN here, the monitoring convention, and their reason is the status line, not a stderr line.
    .configureOutput({ outputError: () => undefined })
    .showHelpAfterError(false)
    .exitOverride((error) => {
      if (error.exitCode === 0) throw error;
      const reason = `${error.message.replace(/^error: /, '').replaceAll('\n', ' ').replace(/\.$/, '')}; see hls-bootstrap check-disk --help`;
      const mode = { json: argv.includes('--json'), healthcheck: argv.includes('--healthcheck') };
      throw new BootstrapError(print(session, unknownResult('', reason), mode), []);
    })
    .addHelpText('after', () => variablesHelp(READS['check-disk'], session.helpWidth(), 'makes it UNKNOWN'))
    .action((flags: Flags, command: Command) => run(session, flags, command));
}
