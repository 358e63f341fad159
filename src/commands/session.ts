// What every command shares: the process it runs in (Io), the global options, its output and configuration.

import { Help, type Command, type HelpConfiguration } from 'commander';
import { wrap } from '../1-config/docs.ts';
import { lookAlikeWarnings, readEnvFiles, resolveConfig, type Config, type Layer } from '../1-config/resolve.ts';
import type { Context } from '../1-config/variables.ts';
import type { ProcessControl } from '../5-exec/exec.ts';
import type { ExecPlan } from '../5-exec/plan.ts';
import { EXIT } from '../errors.ts';
import { Output, type OutStream } from '../output.ts';
import { abandonable, type Stop } from '../stop.ts';

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
  /** Fed by the entry's signal handlers until the exec. */
  readonly stop: Stop;
}

/** Options every command takes. */
export interface GlobalOptions {
  readonly envFile: readonly string[];
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly quiet: boolean;
}

/** Options every command takes, as commander leaves them: absent when not given. */
type GivenOptions = { readonly [K in keyof GlobalOptions]?: GlobalOptions[K] };

/**
 * Commander's help, but where the column beside the options and commands would be narrower than
 * 40, commander writes each description on one long line; then each goes below its name instead,
 * wrapped to the width, as the variables are.
 */
const NARROW_HELP: HelpConfiguration = {
  formatItem(term, termWidth, description, helper) {
    const width = helper.helpWidth ?? 80;
    if (description === '' || width - termWidth - 4 >= helper.minWidthToWrap) return Help.prototype.formatItem.call(this, term, termWidth, description, helper);
    return [`  ${term}`, ...wrap(description, width - 6).map((line) => `      ${line}`)].join('\n');
  },
};

/** Adds the options every command takes, before or after its name, and the help that fits narrow terminals. */
export function addGlobalOptions(command: Command): Command {
  return command
    .configureHelp(NARROW_HELP)
    .option('--env-file <path>', 'read variables from a dotenv file, under the real environment (repeatable; earlier files win)',
      (path: string, paths: string[] | undefined) => [...(paths ?? []), path])
    .option('--dry-run', 'compute and print every step\'s plan; change nothing, exec nothing')
    .option('--json', 'print one JSON document on stdout describing what each step found and did')
    .option('-q, --quiet', 'print only warnings and errors');
}

/** The exec a `run` planned, performed by the router once every step succeeded. */
export interface PendingExec {
  readonly plan: ExecPlan;
  readonly supervise: boolean;
}

/** One invocation: what the commands read (io) and what they leave for the router (output, exit code, exec). */
export class Session {
  readonly io: Io;
  output: Output | undefined;
  exitCode: number = EXIT.OK;
  pending: PendingExec | undefined;

  constructor(io: Io) {
    this.io = io;
  }

  /** Columns of help text: the terminal's, or 80 in a pipe. Commander wraps its part to the same. */
  helpWidth(): number {
    return Math.max(40, this.io.stdout.columns ?? 80);
  }

  /** Global options given before and after the command name, merged. */
  options(command: Command): GlobalOptions {
    const outer = command.parent?.opts<GivenOptions>() ?? {};
    const inner = command.opts<GivenOptions>();
    return {
      envFile: [...(outer.envFile ?? []), ...(inner.envFile ?? [])],
      dryRun: outer.dryRun === true || inner.dryRun === true,
      json: outer.json === true || inner.json === true,
      quiet: outer.quiet === true || inner.quiet === true,
    };
  }

  /** Creates the output for `command`; `resultOnStdout`: its result is its stdout, so --json prints no document. */
  async start(command: Command, resultOnStdout = false): Promise<{ options: GlobalOptions; out: Output }> {
    const options = this.options(command);
    this.output = await Output.create(this.io.stdout, this.io.stderr, { quiet: options.quiet, json: options.json && !resultOnStdout, env: this.io.env });
    return { options, out: this.output };
  }

  /** Reads the env files and resolves the configuration; every problem at once, exit 78. Warns of misspelt variables first. */
  async config(options: GlobalOptions): Promise<Config> {
    const environment: Layer = { source: 'environment', values: this.io.env };
    const files = await abandonable(this.io.stop, 'the configuration', () => readEnvFiles(options.envFile));
    const layers = [environment, ...files.layers];
    for (const warning of lookAlikeWarnings(layers)) this.output?.warn(`hls-bootstrap: ${warning}`);
    return resolveConfig(layers, this.io.context, files.problems);
  }
}
