// Plans the exec: which file, which argv, which user, which environment; checked so that execve cannot fail.

import { closeSync, openSync, readSync } from 'node:fs';
import type { ExecUser } from '../1-config/parse.ts';
import { BootstrapError, EXIT } from '../errors.ts';
import { which } from '../which.ts';

export interface ExecPlan {
  /** The resolved file execve runs. */
  readonly file: string;
  /** argv, argv[0] as given. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly user: ExecUser | undefined;
}

/** ELF machine numbers of the architectures Node runs on, and what each can also run. */
const MACHINES: Readonly<Record<string, readonly number[]>> = {
  x64: [62, 3], ia32: [3], arm64: [183, 40], arm: [40], riscv64: [243], ppc64: [21], s390x: [22], loong64: [258],
};

/** Why the kernel would refuse to execute `file`, judged from its first bytes; undefined if it would not. */
export function formatProblem(head: Buffer, arch: string, exists: (path: string) => boolean): string | undefined {
  if (head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
    const machine = head.length >= 20 ? head.readUInt16LE(18) : -1;
    const runnable = MACHINES[arch];
    return runnable === undefined || runnable.includes(machine) ? undefined : `it is a binary for another architecture (ELF machine ${machine}), and this is ${arch}`;
  }
  if (head.subarray(0, 2).toString('latin1') === '#!') {
    const interpreter = /^#![ \t]*([^ \t\n]+)/.exec(head.toString('latin1'))?.[1];
    if (interpreter === undefined) return 'its #! line names no interpreter';
    return exists(interpreter) ? undefined : `its interpreter ${interpreter} does not exist or cannot be executed`;
  }
  return 'it is neither a binary nor a script with a #! line';
}

function readHead(file: string): Buffer | undefined {
  try {
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(256);
      return head.subarray(0, readSync(fd, head, 0, 256, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    // Executable but not readable by this user: the kernel will judge it.
    return undefined;
  }
}

/**
 * Resolves `argv[0]` on the target's PATH and checks it can be executed: 127 when not found,
 * 126 when it cannot be executed, each with one line naming the command. process.execve
 * aborts the whole process with a native stack trace when execve fails, so it must not fail.
 */
export function planExec(argv: readonly string[], env: Readonly<Record<string, string>>, user: ExecUser | undefined, cwd: string): ExecPlan {
  const command = argv[0] ?? '';
  const found = which(command, env.PATH, cwd);
  if (!found.found) {
    if (found.missing === 'not-found') throw new BootstrapError(EXIT.NOT_FOUND, `${command}: command not found${command.includes('/') ? '' : ' on PATH'}`);
    throw new BootstrapError(EXIT.CANNOT_EXECUTE, `${command}: cannot execute ${found.path ?? command}: permission denied`);
  }
  const head = readHead(found.path);
  // The kernel takes the interpreter as a path, never from PATH.
  const interpreterRuns = (path: string): boolean => which(path.includes('/') ? path : `./${path}`, env.PATH, cwd).found;
  const problem = head === undefined ? undefined : formatProblem(head, process.arch, interpreterRuns);
  if (problem !== undefined) throw new BootstrapError(EXIT.CANNOT_EXECUTE, `${command}: cannot execute ${found.path}: ${problem}`);
  return { file: found.path, argv: [...argv], env: user === undefined ? env : { ...env, HOME: user.home }, user };
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
