// The command line: parses arguments with commander, runs one command, and turns expected failures into exit codes.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { variablesHelp } from './1-config/docs.ts';
import { ENV_FORMATS, formatEnv, type EnvFormat } from './1-config/env-format.ts';
import { Rejected, execUser, type ExecUser } from './1-config/parse.ts';
import { readEnvFiles, resolveConfig, type Config, type Layer } from './1-config/resolve.ts';
import type { Context, Step } from './1-config/variables.ts';
import { BootstrapError, EXIT } from './errors.ts';
import { CHECK_EXIT, HEALTHCHECK_EXIT, checkDisk, report, type CheckDiskOptions } from './3-disk/check-disk.ts';
import { sweepStep } from './2-storage/step.ts';
import { checkRendered } from './4-supervisord/check.ts';
import { applySupervisord, paths, planSupervisord, renderFrom } from './4-supervisord/step.ts';
import { Output, wantsColour, type OutStream } from './output.ts';
import { execute, type ProcessControl } from './5-exec/exec.ts';
import type { ExecPlan } from './5-exec/plan.ts';
import { startup } from './startup.ts';

/** Everything the core needs from the process, passed in by the entry. */
export interface Io {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly cwd: string;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly context: Context;
  readonly process: ProcessControl;
}

/** The options of `run`. */
interface RunOptions {
  readonly user?: string;
  readonly supervise?: true;
}

/** Options every command takes, as commander leaves them: absent when not given. */
type GivenOptions = { readonly [K in keyof GlobalOptions]?: GlobalOptions[K] };

/** Options every command takes. */
interface GlobalOptions {
  readonly envFile: readonly string[];
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly quiet: boolean;
}

const STARTUP: readonly Step[] = ['storage', 'disk', 'supervisord', 'exec'];

const EXIT_HELP = `
Exit codes:
  0    success                          73   storage cannot be prepared
  1    internal error (a bug)           75   disk critical with HLS_DISK_CRITICAL_ACTION=fail
  2    usage error                      78   invalid configuration
  126  command not executable           127  command not found
  otherwise the exec'd program's own status. check-disk has its own codes (see its --help).
`;

function addGlobalOptions(command: Command): Command {
  return command
    .option('--env-file <path>', 'read variables from a dotenv file, under the real environment (repeatable; earlier files win)',
      (path: string, paths: string[] | undefined) => [...(paths ?? []), path])
    .option('--dry-run', 'compute and print every step\'s plan; change nothing, exec nothing')
    .option('--json', 'print one JSON document on stdout describing what each step found and did')
    .option('-q, --quiet', 'print only warnings and errors');
}

/** Global options given before and after the command name, merged. */
function globalOptions(command: Command): GlobalOptions {
  const outer = command.parent?.opts<GivenOptions>() ?? {};
  const inner = command.opts<GivenOptions>();
  return {
    envFile: [...(outer.envFile ?? []), ...(inner.envFile ?? [])],
    dryRun: outer.dryRun === true || inner.dryRun === true,
    json: outer.json === true || inner.json === true,
    quiet: outer.quiet === true || inner.quiet === true,
  };
}

/** Reads the env files and resolves the configuration; every problem at once, exit 78. */
async function loadConfig(io: Io, options: GlobalOptions): Promise<Config> {
  const environment: Layer = { source: 'environment', values: io.env };
  const files = await readEnvFiles(options.envFile);
  return resolveConfig([environment, ...files.layers], io.context, files.problems);
}

/** The build writes the version in; run from source, it comes from package.json. */
declare const __VERSION__: string | undefined;

function version(): string {
  if (typeof __VERSION__ === 'string') return __VERSION__;
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}


/** Runs the command line in `io.argv` and returns the exit code. */
export async function main(io: Io): Promise<number> {
  let exitCode: number = EXIT.OK;
  let output: Output | undefined;
  /** Creates the output for `command`; `resultOnStdout`: its result is its stdout, so --json prints no document. */
  const start = async (command: Command, resultOnStdout = false): Promise<{ options: GlobalOptions; out: Output }> => {
    const options = globalOptions(command);
    output = await Output.create(io.stdout, io.stderr, { quiet: options.quiet, json: options.json && !resultOnStdout, env: io.env });
    return { options, out: output };
  };

  const program = new Command('hls-bootstrap')
    .description('Prepares HLS segment storage, checks disk space, renders supervisord\'s config, then execs supervisord.')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      getOutHelpWidth: () => io.stdout.columns ?? 80,
      getErrHelpWidth: () => io.stderr.columns ?? 80,
      getOutHasColors: () => wantsColour(io.stdout, io.env),
      getErrHasColors: () => wantsColour(io.stderr, io.env),
    })
    .exitOverride()
    .addHelpText('after', EXIT_HELP);
  addGlobalOptions(program);

  let pending: { plan: ExecPlan; supervise: boolean } | undefined;
  const run = async (command: Command, args: readonly string[], opts: RunOptions): Promise<void> => {
    const { options, out } = await start(command);
    const config = await loadConfig(io, options);
    let user: ExecUser | undefined;
    if (opts.user !== undefined) {
      try {
        user = execUser(io.context.users)(opts.user);
      } catch (error) {
        if (!(error instanceof Rejected)) throw error;
        throw new BootstrapError(EXIT.CONFIG, `--user ${JSON.stringify(opts.user)} is not valid: ${error.detail ?? 'expected USER[:GROUP]'}`);
      }
    }
    const plan = await startup(config, out, { dryRun: options.dryRun, euid: io.context.euid, cwd: io.cwd, now: io.now(), exec: args, user });
    if (plan !== undefined) pending = { plan, supervise: opts.supervise === true };
  };
  // A bare `hls-bootstrap` is `run`; an unknown word is a usage error, not a command to exec.
  program.action(async (_opts: unknown, command: Command) => {
    const [word] = command.args;
    if (word === undefined) return run(command, [], {});
    return command.error(`error: unknown command '${word}'; to exec a program, write: hls-bootstrap run -- ${word}`,
      { code: 'commander.unknownCommand' });
  });

  addGlobalOptions(program.command('run'))
    .summary('every startup step in order, then exec (the ENTRYPOINT; also what a bare hls-bootstrap does)')
    .description('Runs every startup step in order, then replaces itself with supervisord, or with COMMAND when given.')
    .argument('[command...]', 'the command to exec instead of supervisord -c SUPERVISORD_CONF')
    .option('--user <user[:group]>', 'switch to this user before exec, as su-exec does (needs root; default: EXEC_USER)')
    .option('--supervise', 'run the command as a child instead of exec: signals forwarded, its exit status passed on')
    .passThroughOptions()
    .addHelpText('after', () => variablesHelp(STARTUP))
    .action((args: string[], opts: RunOptions, command: Command) => run(command, args, opts));

  addGlobalOptions(program.command('prepare'))
    .summary('every startup step, no exec (for an init container, CI, or a human)')
    .description('Runs every startup step in order and exits instead of exec\'ing.')
    .addHelpText('after', () => variablesHelp(['storage', 'disk', 'supervisord']))
    .action(async (_opts: unknown, command: Command) => {
      const { options, out } = await start(command);
      const config = await loadConfig(io, options);
      await startup(config, out, { dryRun: options.dryRun, euid: io.context.euid, cwd: io.cwd, now: io.now(), exec: undefined });
    });

  addGlobalOptions(program.command('check-disk'))
    .summary('the disk check alone')
    .description('Checks the free space of the filesystem that holds HLS_TEMP_DIR (or its nearest existing parent).\n'
      + 'Prints one monitoring-plugins line, or with --json one object; exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.')
    .option('--path <dir>', 'the directory to check (default: HLS_TEMP_DIR)')
    .option('--warn <size>', 'warn below this: 2G, 500M, 524288K, a number of MiB, or 10% (default: HLS_DISK_WARN_MB)')
    .option('--critical <size>', 'critical below this, as --warn (default: HLS_DISK_CRITICAL_MB)')
    .option('--healthcheck', "for Docker's HEALTHCHECK: exit 0 for OK and WARNING, 1 for CRITICAL and UNKNOWN")
    .exitOverride((error) => {
      // Usage errors are UNKNOWN here, the monitoring convention; commander has printed the reason.
      if (error.exitCode === 0) throw error;
      throw new BootstrapError(io.argv.includes('--healthcheck') ? HEALTHCHECK_EXIT.UNKNOWN : CHECK_EXIT.UNKNOWN, []);
    })
    .addHelpText('after', () => variablesHelp(['disk']))
    .action(async (opts: CheckDiskOptions & { healthcheck?: true }, command: Command) => {
      const { options, out } = await start(command, true);
      let config: Config | BootstrapError;
      try {
        config = await loadConfig(io, options);
      } catch (error) {
        if (!(error instanceof BootstrapError)) throw error;
        config = error;
      }
      const result = await checkDisk(config, opts, io.cwd);
      const { text, exitCode: code } = report(result, { json: options.json, healthcheck: opts.healthcheck === true });
      out.result(text);
      exitCode = code;
    });

  addGlobalOptions(program.command('render-config'))
    .summary('render the supervisord config alone')
    .description(`Renders the environment= line of [program:m3u-proxy] from the configuration into the template
and writes the result atomically (mode 0600: it holds the proxy's token). Values supervisord could
not pass on exactly are refused, as are %(ENV_X)s references to variables that are not set.`)
    .option('--template <path>', 'the template (default: SUPERVISORD_TEMPLATE)')
    .option('-o, --output <path>', 'where to write the config, - for stdout (default: SUPERVISORD_CONF)')
    .option('--check', 'render to a temporary file and validate it, starting supervisord on it if it is on PATH; exit 0 or 78')
    .addHelpText('after', () => variablesHelp(['supervisord']))
    .action(async (opts: { template?: string; output?: string; check?: true }, command: Command) => {
      const { options, out } = await start(command, opts.output === '-' && opts.check !== true);
      const config = await loadConfig(io, options);
      const render = { ...opts, dryRun: options.dryRun, cwd: io.cwd };
      if (opts.check !== true) {
        applySupervisord(planSupervisord(config, render), out, options.dryRun);
        return;
      }
      const where = paths(config, render);
      const report = await checkRendered(renderFrom(config, where), config.env, io.cwd);
      out.info(`Checking the supervisord config rendered from ${where.template}`);
      for (const line of report.passed) out.info(`   ✅ ${line}`);
      out.record('check', report);
      if (report.problems.length > 0) throw new BootstrapError(EXIT.CONFIG, report.problems);
    });

  addGlobalOptions(program.command('sweep'))
    .summary('remove the stream directories a crashed proxy left behind, alone (by hand or from cron)')
    .description(`Removes every m3u_proxy_hls_* directory in HLS_TEMP_DIR whose newest entry is older than
HLS_GC_AGE_THRESHOLD, as the startup does before re-owning; runs whatever HLS_STARTUP_SWEEP says.
Never follows a link, never enters another filesystem. --dry-run lists what would go.`)
    .addHelpText('after', () => variablesHelp(['storage']))
    .action(async (_opts: unknown, command: Command) => {
      const { options, out } = await start(command);
      const config = await loadConfig(io, options);
      await sweepStep(config, out, { dryRun: options.dryRun, euid: io.context.euid, now: io.now() });
    });

  addGlobalOptions(program.command('env'))
    .summary('print the resolved configuration')
    .description('Prints every variable as the startup would resolve it: defaults filled in, values normalised.')
    .addOption(new Option('--format <format>', 'shell (export lines to eval), dotenv, or json (one object)')
      .choices(ENV_FORMATS).default('shell'))
    .option('--show-secrets', 'print secrets such as M3U_PROXY_TOKEN instead of hiding them')
    .addHelpText('after', () => variablesHelp(STARTUP))
    .action(async (opts: { format: EnvFormat; showSecrets?: true }, command: Command) => {
      const { options, out } = await start(command, true);
      const config = await loadConfig(io, options);
      const format = options.json ? 'json' : opts.format;
      out.result(await formatEnv(config, format, opts.showSecrets === true));
      if (opts.showSecrets !== true && !options.quiet) out.warn('hls-bootstrap: M3U_PROXY_TOKEN is hidden; pass --show-secrets to print it');
    });

  // Only now, so that the commands above do not inherit it.
  program.allowExcessArguments();
  let problems: readonly string[] = [];
  /** Prints an expected failure and returns its code; anything else is a bug and goes on up. */
  const fail = (error: unknown): number => {
    if (!(error instanceof BootstrapError)) throw error;
    problems = error.problems;
    for (const problem of problems) (output ?? fallbackOutput(io)).error(`hls-bootstrap: ${problem}`);
    return error.exitCode;
  };
  try {
    await program.parseAsync([...io.argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    exitCode = fail(error);
  }
  output?.printDocument({ exitCode, problems });
  if (pending === undefined || exitCode !== EXIT.OK) return exitCode;
  try {
    return await execute(pending.plan, io.process, { supervise: pending.supervise });
  } catch (error) {
    return fail(error);
  }
}

/** Plain stderr output for errors raised before a command created its own. */
function fallbackOutput(io: Io): { error(line: string): void } {
  return { error: (line) => io.stderr.write(`${line}\n`) };
}
