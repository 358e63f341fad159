// Node.js releases besides the pinned one, from the npm package node (as the pinned one comes), installed once into .cache/.

import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './root.ts';

/**
 * The directory holding `node` of release `version`. The first call on a checkout installs it with
 * npm into .cache/node-VERSION (beside it first, then renamed into place, so that a test file running
 * at the same time never sees half an install); later calls and runs reuse it.
 */
export function otherNode(version: string): string {
  const prefix = join(ROOT, '.cache', `node-${version}`);
  const bin = join(prefix, 'node_modules', '.bin');
  if (existsSync(join(bin, 'node'))) return bin;
  const staging = `${prefix}.${process.pid}`;
  const npm = spawnSync('npm', ['install', '--prefix', staging, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error', `node@${version}`], {
    encoding: 'utf8', timeout: 540_000, env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
  });
  if (npm.status !== 0) throw new Error(`npm install node@${version} failed: ${npm.stderr}`);
  try {
    renameSync(staging, prefix);
  } catch (error) {
    // Another test file installed it first: theirs stays, this one goes.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(bin, 'node'))) throw error;
  }
  return bin;
}
