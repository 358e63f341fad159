// Clean-up at the end of a test, in the reverse order of what it undoes: a module without side effects, for every kind of test.

import type { TestContext } from 'node:test';

const cleanups = new WeakMap<TestContext, (() => unknown)[]>();

/**
 * Runs `undo` when the test ends, waiting for it if it returns a promise; the last registered runs
 * first, so a mount goes before its directory, and a container before its volumes.
 */
export function defer(t: TestContext, undo: () => unknown): void {
  let stack = cleanups.get(t);
  if (stack === undefined) {
    const list: (() => unknown)[] = [];
    cleanups.set(t, list);
    t.after(async () => {
      for (const step of list.reverse()) await step();
    });
    stack = list;
  }
  stack.push(undo);
}
