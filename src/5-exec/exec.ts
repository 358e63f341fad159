// The exec step: switch user if asked, look once more, then become the target (execve), or supervise it as a child.

import { accessSync, constants } from 'node:fs';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { BootstrapError, EXIT, reason } from '../errors.ts';
import { settle, type Stop } from '../stop.ts';
import { currentCredentials, procSelf } from './credentials.ts';
import { checkExecutable } from './executable.ts';
import { nprocExceededProblem } from './nproc.ts';
import { readMachine, type ExecPlan } from './plan.ts';
import type { OnSignal } from './supervise.ts';

/** What the exec step needs from the process; the entry passes Node's own. */
export interface ProcessControl {
  /** Undefined where Node has no process.execve (before 22.15, and 23.0 to 23.10). */
  readonly execve: ((file: string, args: string[], env: Record<string, string>) => never) | undefined;
  /** Node's version, for the warning when it has no execve. */
  readonly version: string;
  /** This process's id: as PID 1, a supervisor inherits every orphan of the container. */
  readonly pid: number;
  readonly setgroups: (groups: number[]) => void;
  readonly setgid: (id: number) => void;
  readonly setuid: (id: number) => void;
  readonly onSignal: OnSignal;
  /** Stops honouring stop signals as stop requests: a supervised child gets them from then on, an exec'd one at their default action. */
  readonly releaseStopSignals: () => void;
}

export interface ExecuteOptions {
  /** --supervise: run the target as a child even where execve exists. */
  readonly supervise: boolean;
  /** Looked at last, right before the exec. */
  readonly stop: Stop;
  readonly warn: (line: string) => void;
  /** Called once nothing can fail any more, right before the exec or the child's start. */
  readonly ready: () => void;
}

/** Switches to the plan's user in the order su-exec and gosu use: supplementary groups, then gid, then uid. */
function switchUser(plan: ExecPlan, proc: ProcessControl): void {
  const user = plan.user;
  if (user === undefined) return;
  const steps: [string, () => void][] = [
    [`setgroups(${user.groups.join(',')})`, () => { proc.setgroups([...user.groups]); }],
    [`setgid(${user.gid})`, () => { proc.setgid(user.gid); }],
    [`setuid(${user.uid})`, () => { proc.setuid(user.uid); }],
  ];
  for (const [call, run] of steps) {
    try {
      run();
    } catch (error) {
      throw new BootstrapError(EXIT.CANNOT_EXECUTE, `cannot run ${plan.argv[0] ?? plan.file} as ${user.label}: ${call} failed: ${reason(error)}`, { cause: error });
    }
  }
}

/**
 * The last look, as the user the target runs as: the kernel's verdict on that user's process
 * limit, the same checks as before the steps (the file may have changed since), then the kernel's
 * own access(X_OK) on each file it will open, which also sees ACLs and security modules.
 */
function recheck(plan: ExecPlan): void {
  const { user } = plan;
  const command = plan.argv[0] ?? plan.file;
  const overLimit = user === undefined ? undefined : nprocExceededProblem(user.uid, procSelf);
  if (user !== undefined && overLimit !== undefined) throw new BootstrapError(EXIT.CANNOT_EXECUTE, `cannot run ${command} as ${user.label}: ${overLimit}`);
  const cred = currentCredentials({ euid: user?.uid ?? 0, egid: user?.gid ?? 0 });
  const verdict = checkExecutable(plan.file, readMachine(cred, plan.cwd));
  if (!verdict.ok) {
    throw new BootstrapError(verdict.absent ? EXIT.NOT_FOUND : EXIT.CANNOT_EXECUTE, `${command}: cannot execute ${plan.file} any more: ${verdict.reason}`);
  }
  for (const file of verdict.opened) {
    try {
      accessSync(file, constants.X_OK);
    } catch (error) {
      throw new BootstrapError(EXIT.CANNOT_EXECUTE, `${command}: cannot execute ${plan.file}: the kernel denies uid ${cred.uid} execute access to ${file} (${reason(error)}; an ACL or a security module)`);
    }
  }
}

async function loadSupervise(): Promise<typeof import('./supervise.ts')> {
  // In the build this code is dist/cli.cjs and supervise.cjs carries execa; under the test runner it is the .ts source.
  const file = import.meta.url.endsWith('.ts') ? './supervise.ts' : './supervise.cjs';
  return (await import(pathToFileURL(fileURLToPath(new URL(file, import.meta.url))).href)) as typeof import('./supervise.ts');
}

/** Becomes the plan's program; returns only when it runs as a child, with the status to exit with. */
export async function execute(plan: ExecPlan, proc: ProcessControl, options: ExecuteOptions): Promise<number> {
  const { execve } = proc;
  if (!options.supervise && execve === undefined) {
    options.warn(`hls-bootstrap: warning: Node.js ${proc.version} has no process.execve (22.15 and 23.11 have it), so ${plan.argv[0] ?? plan.file} runs as a child, as with --supervise`);
  }
  switchUser(plan, proc);
  recheck(plan);
  if (execve !== undefined && !options.supervise) {
    // Node ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across execve, where a
    // caught one is reset: caught, the target starts with their default actions, as after a shell's exec.
    for (const signal of ['SIGPIPE', 'SIGXFSZ'] as const) proc.onSignal(signal, () => undefined);
    // A stop asked for until now means nothing is started; after it, the target hears the signals.
    await settle(options.stop, 'the exec');
    // From this last look on, a caught signal would be lost: execve discards what Node caught and
    // has not yet handed to JavaScript. At their default action, they end the process as they
    // would end the target (as PID 1, the kernel drops them, as it does until the target catches them).
    proc.releaseStopSignals();
    options.ready();
    return execve(plan.file, [...plan.argv], { ...plan.env });
  }
  if (proc.pid === 1) {
    // tini reaps whatever exits with waitpid(-1); Node waits only for the pids it spawned.
    options.warn(`hls-bootstrap: warning: as PID 1, hls-bootstrap waits only for ${plan.argv[0] ?? plan.file}, not for the orphans re-parented to it, which stay zombies until it exits (Node.js cannot wait for a process it did not start); docker run --init reaps them`);
  }
  const { supervise } = await loadSupervise();
  await settle(options.stop, 'the exec');
  options.ready();
  // supervise() listens before it returns its promise; only then are the stop handlers let go.
  const done = supervise(plan, proc.onSignal);
  proc.releaseStopSignals();
  return done;
}
