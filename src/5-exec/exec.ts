// The exec step: switch user if asked, then become the target (execve), or supervise it as a child.

import { pathToFileURL, fileURLToPath } from 'node:url';
import { BootstrapError, EXIT, reason } from '../errors.ts';
import type { ExecPlan } from './plan.ts';
import type { OnSignal } from './supervise.ts';

/** What the exec step needs from the process; the entry passes Node's own. */
export interface ProcessControl {
  /** Undefined where Node has no process.execve (23.0 to 23.10). */
  readonly execve: ((file: string, args: string[], env: Record<string, string>) => never) | undefined;
  readonly setgroups: (groups: number[]) => void;
  readonly setgid: (id: number) => void;
  readonly setuid: (id: number) => void;
  readonly onSignal: OnSignal;
  /** Stops honouring stop signals as stop requests; a supervised child gets them from then on. */
  readonly releaseStopSignals: () => void;
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

async function loadSupervise(): Promise<typeof import('./supervise.ts')> {
  // In the build this code is dist/cli.cjs and supervise.cjs carries execa; under the test runner it is the .ts source.
  const file = import.meta.url.endsWith('.ts') ? './supervise.ts' : './supervise.cjs';
  return (await import(pathToFileURL(fileURLToPath(new URL(file, import.meta.url))).href)) as typeof import('./supervise.ts');
}

/** Becomes the plan's program; returns only in supervise mode, with the status to exit with. */
export async function execute(plan: ExecPlan, proc: ProcessControl, options: { supervise: boolean }): Promise<number> {
  switchUser(plan, proc);
  if (!options.supervise && proc.execve !== undefined) proc.execve(plan.file, [...plan.argv], { ...plan.env });
  const { supervise } = await loadSupervise();
  // supervise() listens before it returns its promise; only then are the stop handlers let go.
  const done = supervise(plan, proc.onSignal);
  proc.releaseStopSignals();
  return done;
}
