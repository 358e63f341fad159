// Pacing of a long walk: it yields to the event loop often enough that a stop request is seen at once.
//
// The walk's system calls are synchronous, and a signal handler runs only when the event loop
// turns; so the walk lets it turn every few milliseconds, then asks whether it should stop.

/** Milliseconds on a monotonic clock; `performance` would load Node's perf_hooks at start-up. */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Thrown at a pause by a walk that was asked to stop; the walk leaves everything as it was there. */
export class Stopped extends Error {}

/** How often a walk looks at the clock (in entries), and yields (in milliseconds). */
const LOOK_EVERY = 64;
const YIELD_MS = 20;

/** Decides when a walk pauses; `check` throws to stop it (Interrupted in this process, Stopped in a helper). */
export class Pace {
  private readonly check: () => void;
  private readonly everyMs: number;
  private last = now();
  private count = 0;

  /** `everyMs`: how long it walks between pauses; tests make it 0 to pause at every look at the clock. */
  constructor(check: () => void = () => undefined, everyMs = YIELD_MS) {
    this.check = check;
    this.everyMs = everyMs;
  }

  /** Called once per entry: a promise to await when it is time to yield, else undefined (no await, no cost). */
  tick(): Promise<void> | undefined {
    if (++this.count % LOOK_EVERY !== 0 || now() - this.last < this.everyMs) return undefined;
    return this.pause();
  }

  /** Lets signal handlers and child processes' messages in, then checks whether to stop. */
  async pause(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.last = now();
    this.check();
  }
}
