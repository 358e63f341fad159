// Stop requests: a signal that arrived before the exec, checked by the steps at their safe points.

import { BootstrapError } from './errors.ts';

/** The signals that stop a start before the exec; each ends it with 128+N. */
export const STOP_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Their numbers on Linux, for the exit status 128+N. */
const NUMBERS: Readonly<Record<StopSignal, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 };

/** A start that a signal stopped: exit 128+N, with one line naming the step it interrupted. */
export class Interrupted extends BootstrapError {
  readonly signal: StopSignal;

  constructor(signal: StopSignal, step: string) {
    super(128 + NUMBERS[signal], `stopped by ${signal} during ${step}`);
    this.signal = signal;
  }
}

/**
 * Whether a stop was asked for. The entry feeds it from signal handlers; steps call `check` at
 * points where stopping leaves nothing half-done, and long ones listen with `onRequest`.
 */
export class Stop {
  private signal: StopSignal | undefined;
  private readonly listeners = new Set<(signal: StopSignal) => void>();

  /** The first signal that asked for a stop, if any. */
  get requested(): StopSignal | undefined {
    return this.signal;
  }

  /** Records a stop request; only the first one counts. */
  request(signal: StopSignal): void {
    if (this.signal !== undefined) return;
    this.signal = signal;
    for (const listener of [...this.listeners]) listener(signal);
  }

  /** Calls `listener` once a stop is requested (at once if it already was); returns the unsubscribe. */
  onRequest(listener: (signal: StopSignal) => void): () => void {
    if (this.signal !== undefined) {
      listener(this.signal);
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Throws Interrupted, naming `step`, when a stop was requested. */
  check(step: string): void {
    if (this.signal !== undefined) throw new Interrupted(this.signal, step);
  }
}

/** Lets pending signal handlers run, then checks: the last look before something that cannot be undone. */
export async function settle(stop: Stop, step: string): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  stop.check(step);
}

/**
 * Runs a step that does not look at stop requests itself, and gives it up when one comes: what it
 * only measures or reads (the disk step, reading the env files) may be abandoned at any point.
 */
export async function abandonable<T>(stop: Stop, step: string, run: () => Promise<T>): Promise<T> {
  let off: () => void = () => undefined;
  const stopped = new Promise<never>((_resolve, reject) => {
    off = stop.onRequest((signal: StopSignal) => {
      reject(new Interrupted(signal, step));
    });
  });
  try {
    return await Promise.race([run(), stopped]);
  } finally {
    off();
  }
}
