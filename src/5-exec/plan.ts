// Plans the exec: which file, which argv, which user, which environment; checked so that execve cannot fail.

import { arch, endianness, machine } from 'node:os';
import type { ExecUser } from '../1-config/parse.ts';
import { BootstrapError, EXIT } from '../errors.ts';
import { which } from '../which.ts';
import { procSelf, switchProblem, targetCredentials, type Credentials } from './credentials.ts';
import { encodingProblems, readUndecodable } from './encoding.ts';
import { checkExecutable, type ExecSystem, type Verdict } from './executable.ts';
import { argProblems, readArgLimits, stringBytes, type ArgLimits, type ArgString } from './limits.ts';
import { readMounts } from './mounts.ts';
import { nprocProblem } from './nproc.ts';

export interface ExecPlan {
  /** The resolved file execve runs. */
  readonly file: string;
  /** argv, argv[0] as given. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly user: ExecUser | undefined;
  /** The working directory the kernel resolves relative interpreters from. */
  readonly cwd: string;
}

/** Everything the checks read about this machine, read once. */
export interface Machine extends ExecSystem {
  readonly limits: ArgLimits;
}

const WIDE = new Set(['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el']);

/** Reads what the checks need for `cred`: the mount table, the kernel, the limits. */
export function readMachine(cred: Credentials, cwd: string): Machine {
  const pointer = WIDE.has(arch()) ? 8 : 4;
  const limits = readArgLimits(pointer);
  return { cred, cwd, mounts: readMounts(), kernel: { machine: machine(), endianness: endianness(), pageSize: limits.pageSize }, limits };
}

/** The strings execve copies, and the most they take at once as each #! level replaces argv[0] with its own. */
function strings(file: string, argv: readonly string[], env: Readonly<Record<string, string>>, verdict: Verdict): { all: ArgString[]; peak: number } {
  const all: ArgString[] = [
    { text: file, what: 'the path of the command' },
    ...Object.entries(env).map(([name, value]) => ({ text: `${name}=${value}`, what: `the variable ${name}` })),
    ...argv.map((text, i) => ({ text, what: i === 0 ? 'the command name' : `argument ${i} of the command` })),
  ];
  let usage = stringBytes(all);
  let peak = usage;
  let args = [...argv];
  let filename = file;
  for (const level of verdict.ok ? verdict.scripts : []) {
    const added = [level.interpreter, ...(level.argument === undefined ? [] : [level.argument]), filename];
    usage += stringBytes(added.map((text) => ({ text, what: '' }))) - stringBytes([{ text: args[0] ?? '', what: '' }]);
    peak = Math.max(peak, usage);
    args = [...added, ...args.slice(1)];
    filename = level.interpreter;
  }
  return { all, peak };
}

/**
 * Resolves `argv[0]` on the target's PATH and checks everything execve would refuse, for the user
 * the target runs as: 127 when not found, 126 when it cannot be executed, 78 when the switch to
 * that user or the size of the environment and arguments cannot work; each with one line. `current`:
 * this process's credentials, from which the target's follow. Called
 * before any step: process.execve aborts the whole process with a native stack when execve fails.
 */
export function planExec(argv: readonly string[], env: Readonly<Record<string, string>>, user: ExecUser | undefined, cwd: string, current: Credentials): ExecPlan {
  const command = argv[0] ?? '';
  if (command === '') throw new BootstrapError(EXIT.NOT_FOUND, "'': command not found (the command is empty)");
  const label = command;
  if (user !== undefined) {
    const problem = switchProblem(user, current) ?? nprocProblem(user, current.uid, procSelf);
    if (problem !== undefined) throw new BootstrapError(EXIT.CONFIG, `cannot switch to user ${user.label} (--user or EXEC_USER): ${problem}`);
  }
  const system = readMachine(targetCredentials(current, user), cwd);
  const verdicts = new Map<string, Verdict>();
  const found = which(command, env.PATH, cwd, (file) => {
    const verdict = checkExecutable(file, system);
    verdicts.set(file, verdict);
    return verdict;
  });
  if (!found.found) {
    if (found.missing === 'not-found') {
      const where = command.includes('/') ? '' : ' on PATH';
      const why = found.reason === undefined || found.reason.endsWith('does not exist') ? '' : `: ${found.reason}`;
      throw new BootstrapError(EXIT.NOT_FOUND, `${label}: command not found${where}${why}`);
    }
    throw new BootstrapError(EXIT.CANNOT_EXECUTE, `${label}: cannot execute ${found.path ?? command}: ${found.reason ?? 'permission denied'}`);
  }
  const planEnv = user === undefined ? env : { ...env, HOME: user.home };
  const verdict = verdicts.get(found.path) ?? checkExecutable(found.path, system);
  const { all, peak } = strings(found.path, argv, planEnv, verdict);
  const problems = [...encodingProblems(all, readUndecodable()), ...argProblems(all, { argc: argv.length, envc: Object.keys(planEnv).length }, peak, system.limits)];
  if (problems.length > 0) throw new BootstrapError(EXIT.CONFIG, problems.map((p) => `cannot exec ${label}: ${p}`));
  return { file: found.path, argv: [...argv], env: planEnv, user, cwd };
}

/** argv as a shell would need it typed: plain words bare, the rest in single quotes. */
export function shellWords(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`)).join(' ');
}

/** The plan as --dry-run prints it. */
export function describeExec(plan: ExecPlan, euid: number): string[] {
  const user = plan.user === undefined ? `as the current user (uid ${euid})`
    : `as ${plan.user.label} (uid ${plan.user.uid}, gid ${plan.user.gid}, groups ${plan.user.groups.join(',')}), HOME=${plan.user.home}`;
  const keys = Object.keys(plan.env).sort();
  return [
    `would exec ${plan.file}: ${shellWords(plan.argv)}`,
    `would run it ${user}`,
    `would pass ${keys.length} environment variables: ${keys.join(' ')}`,
  ];
}
