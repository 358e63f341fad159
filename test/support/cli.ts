// Spawns the built bin/hls-bootstrap with an explicit, minimal environment and captures what it did.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { defer } from './defer.ts';
import { SHIPPED } from './shipped.ts';

export { defer };
export { ROOT } from './root.ts';
export { SHIPPED } from './shipped.ts';

/** bin/hls-bootstrap of the package as it ships, where every user can run it (see shipped.ts). */
export const BIN = SHIPPED.bin;
/** The pinned Node, as every user can run it. */
export const NODE = SHIPPED.node;
/** The pinned Node first, so that the shim's `node` is it, then the system's tools. */
export const PATH = `${dirname(NODE)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Variables on top of the minimal environment (PATH, and HOME=cwd); undefined removes one. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  readonly input?: string;
  /** Run as another user: `setpriv` arguments such as ['--reuid=1000', '--regid=1000', '--clear-groups']. */
  readonly setpriv?: readonly string[];
  readonly timeout?: number;
}

/** The minimal environment a test starts from. */
export function minimalEnv(cwd: string, extra: CliOptions['env'] = {}): Record<string, string> {
  const env: Record<string, string | undefined> = { PATH, HOME: cwd, LANG: 'C.UTF-8', ...extra };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

function command(args: readonly string[], options: CliOptions): [string, string[]] {
  if (options.setpriv === undefined) return [BIN, [...args]];
  return ['setpriv', [...options.setpriv, '--', BIN, ...args]];
}

/** Runs hls-bootstrap to completion. */
export function cli(args: readonly string[], options: CliOptions = {}): CliResult {
  const cwd = options.cwd ?? process.cwd();
  const [file, argv] = command(args, options);
  const result = spawnSync(file, argv, {
    cwd, env: minimalEnv(cwd, options.env), input: options.input ?? '', encoding: 'utf8', timeout: options.timeout ?? 60_000,
  });
  if (result.error) throw result.error;
  return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** Starts hls-bootstrap and returns the child, for tests that send it signals. */
export function startCli(args: readonly string[], options: CliOptions = {}) {
  const cwd = options.cwd ?? process.cwd();
  const [file, argv] = command(args, options);
  return spawn(file, argv, { cwd, env: minimalEnv(cwd, options.env), stdio: ['ignore', 'pipe', 'pipe'] });
}


/** A fresh directory, removed when the test ends. Resolved, since /tmp may be a symlink. */
export function tempDir(t: TestContext, prefix = 'hls-bootstrap-test-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  defer(t, () => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Runs a shell command and returns its stdout; throws on failure. */
export function sh(script: string, env: Readonly<Record<string, string>> = { PATH }): string {
  const result = spawnSync('sh', ['-c', script], { encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(`sh -c ${script} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

/** SUPERVISORD_TEMPLATE and SUPERVISORD_CONF for a test: the shipped template, rendered into `dir`. */
export function renderTo(dir: string): Record<string, string> {
  return { SUPERVISORD_TEMPLATE: SHIPPED.template, SUPERVISORD_CONF: join(dir, 'supervisord.conf') };
}
