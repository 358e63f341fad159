// The fallback when process.execve is missing, or with --supervise: the target runs as a child, with signals
// forwarded and its status passed on, as tini does. Built as its own file, so only this path loads execa.

import { constants } from 'node:os';
import { execa } from 'execa';
import type { ExecPlan } from './plan.ts';

/** The signals a supervisor passes on to its child. */
export const FORWARDED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/** Subscribes `handler` to `signal`; returns the unsubscribe. */
export type OnSignal = (signal: NodeJS.Signals, handler: () => void) => () => void;

/** Runs the plan's program as a child and returns the status to exit with: its own, or 128+N after signal N. */
export async function supervise(plan: ExecPlan, onSignal: OnSignal): Promise<number> {
  // Listen before the child exists, as tini blocks signals before it forks: a signal sent the
  // moment the child is up must not meet Node's default action (for SIGUSR1, the debugger).
  const early: NodeJS.Signals[] = [];
  const forward: { to?: (signal: NodeJS.Signals) => void } = {};
  const unsubscribe = FORWARDED.map((signal) => onSignal(signal, () => {
    if (forward.to === undefined) early.push(signal);
    else forward.to(signal);
  }));
  const [argv0, ...args] = plan.argv;
  const child = execa(plan.file, args, {
    argv0: argv0 ?? plan.file,
    env: plan.env,
    extendEnv: false,
    stdio: 'inherit',
    reject: false,
    // Forwarded signals are the child's to handle: never escalate to SIGKILL behind its back.
    forceKillAfterDelay: false,
  });
  forward.to = (signal) => {
    child.kill(signal);
  };
  for (const signal of early.splice(0)) forward.to(signal);
  try {
    const result = await child;
    if (result.signal !== undefined) return 128 + (constants.signals[result.signal] as number | undefined ?? 0);
    if (result.exitCode !== undefined) return result.exitCode;
    // It never ran: execa reports why (the file vanished since it was checked).
    process.stderr.write(`hls-bootstrap: ${plan.argv[0] ?? plan.file}: ${result.shortMessage}\n`);
    return 127;
  } finally {
    for (const off of unsubscribe) off();
  }
}
