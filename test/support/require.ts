// Gates for tests that need root or a program: they skip on a laptop, and fail in CI where a skip would hide them.

import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

const inCi = process.env.CI === 'true';

function gate(t: TestContext, ok: boolean, reason: string): boolean {
  if (ok) return true;
  if (inCi) throw new Error(`cannot run in CI: ${reason}`);
  t.skip(reason);
  return false;
}

/** True when the test may go on as root; otherwise skips it (or fails it in CI). */
export function needsRoot(t: TestContext): boolean {
  return gate(t, process.geteuid?.() === 0, 'needs root (run as root, or in CI)');
}

/** True when `program` is on PATH; otherwise skips the test (or fails it in CI). */
export function needsProgram(t: TestContext, program: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
  return gate(t, found, `needs ${program} on PATH (.ci/run installs it)`);
}
