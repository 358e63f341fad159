// The command line: one router over the commands in commands/, which turns expected failures into exit codes.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerCheckDisk } from './commands/check-disk.ts';
import { registerEnv } from './commands/env.ts';
import { registerHelp, unknownCommand } from './commands/help.ts';
import { registerPrepare } from './commands/prepare.ts';
import { registerRenderConfig } from './commands/render-config.ts';
import { registerRun, runStartup } from './commands/run.ts';
import { Session, addGlobalOptions, type Io } from './commands/session.ts';
import { registerSweep } from './commands/sweep.ts';
import { execute } from './5-exec/exec.ts';
import { BootstrapError, EXIT } from './errors.ts';
import { wantsColour } from './output.ts';
import { settle } from './stop.ts';

export type { Io } from './commands/session.ts';

const EXIT_HELP = `
Exit codes:
  0      success
  1      internal error (a bug)
  2      usage error
  73     storage cannot be prepared
  75     disk critical with HLS_DISK_CRITICAL_ACTION=fail
  78     invalid configuration
  126    command not executable
  127    command not found
  128+N  stopped by signal N before the exec
  other  the exec'd program's own status
check-disk has its own codes: see hls-bootstrap help check-disk.
`;

/** The build writes the version in; run from source, it comes from package.json. */
declare const __VERSION__: string | undefined;

function version(): string {
  if (typeof __VERSION__ === 'string') return __VERSION__;
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}

/** Every command by name, with what registers it, in the order --help lists them. */
const COMMANDS: readonly (readonly [string, (program: Command, session: Session) => void])[] = [
  ['run', registerRun], ['prepare', registerPrepare], ['check-disk', registerCheckDisk], ['render-config', registerRenderConfig],
  ['sweep', registerSweep], ['env', registerEnv], ['help', registerHelp],
];

/**
 * The one command `argv` runs, when only it needs registering: the first word that is neither a
 * global option nor `--env-file`'s value, if it names a command other than `help`. Undefined when
 * every command is needed: none named (a bare start, the root's --help or --version), an unknown
 * word (its suggestions), or `help` (which lists them). Building the others costs a start, and a
 * health check starts every 30 s, a fifth of what commander does there.
 */
export function namedCommand(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--env-file') i++;
    else if (arg === '--') return undefined;
    else if (!arg.startsWith('-')) return COMMANDS.some(([name]) => name === arg) && arg !== 'help' ? arg : undefined;
  }
  return undefined;
}

/** The program with `only` registered on `session`, or every command. */
function program(session: Session, only: string | undefined): Command {
  const { io } = session;
  const root = new Command('hls-bootstrap')
    .description('Prepares HLS segment storage, checks disk space, renders supervisord\'s config, then execs supervisord.')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      getOutHelpWidth: () => session.helpWidth(),
      getErrHelpWidth: () => Math.max(40, io.stderr.columns ?? 80),
      getOutHasColors: () => wantsColour(io.stdout, io.env),
      getErrHasColors: () => wantsColour(io.stderr, io.env),
    })
    .exitOverride()
    .addHelpText('after', EXIT_HELP);
  addGlobalOptions(root);
  // A bare `hls-bootstrap` is `run`; an unknown word is a usage error, not a command to exec.
  root.action(async (_opts: unknown, command: Command) => {
    const [word] = command.args;
    if (word === undefined) return runStartup(session, command, [], {});
    return command.error(unknownCommand(word, root, session), { code: 'commander.unknownCommand' });
  });
  for (const [name, register] of COMMANDS) {
    if (only === undefined || name === only) register(root, session);
  }
  // Only now, so that the commands above do not inherit it.
  return root.allowExcessArguments();
}

/** Runs the command line in `io.argv` and returns the exit code. */
export async function main(io: Io): Promise<number> {
  const session = new Session(io);
  let problems: readonly string[] = [];
  /** Prints an expected failure and returns its code; anything else is a bug and goes on up. */
  const fail = (error: unknown): number => {
    if (!(error instanceof BootstrapError)) throw error;
    problems = error.problems;
    const output = session.output ?? { error: (line: string) => io.stderr.write(`${line}\n`) };
    for (const problem of problems) output.error(`hls-bootstrap: ${problem}`);
    return error.exitCode;
  };
  try {
    await program(session, namedCommand(io.argv)).parseAsync([...io.argv], { from: 'user' });
    // A result stands only if no stop was asked for while the command ran; an exec looks once more itself.
    if (session.pending === undefined) await settle(io.stop, 'the command');
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    session.exitCode = fail(error);
  }
  const { pending } = session;
  if (pending === undefined || session.exitCode !== EXIT.OK) {
    session.output?.printDocument({ exitCode: session.exitCode, problems });
    return session.exitCode;
  }
  try {
    return await execute(pending.plan, io.process, {
      supervise: pending.supervise,
      stop: io.stop,
      warn: (line) => {
        if (session.output === undefined) io.stderr.write(`${line}\n`);
        else session.output.warn(line);
      },
      // The document goes out once nothing can fail any more: after the exec, nothing can print it.
      ready: () => {
        session.output?.printDocument({ exitCode: EXIT.OK, problems });
      },
    });
  } catch (error) {
    const code = fail(error);
    session.output?.printDocument({ exitCode: code, problems });
    return code;
  }
}
