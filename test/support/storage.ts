// Fixtures of the storage tests: directories a second user can reach, stream trees, C programs, an ext4 mount.

import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { BIN, PATH, defer, renderTo, tempDir, type CliResult } from './cli.ts';

/** A fresh directory that every user can pass through (mkdtemp makes it 0700), removed when the test ends. */
export function reachableDir(t: TestContext): string {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  return dir;
}

/** A tree like a crashed proxy leaves: `dirs` stream directories of `segments` segments and an index, all root's. */
export function streamTree(root: string, dirs: number, segments: number): void {
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `m3u_proxy_hls_${d}`);
    mkdirSync(dir, { recursive: true });
    for (let s = 0; s < segments; s++) closeSync(openSync(join(dir, `segment_${s}.ts`), 'w'));
    writeFileSync(join(dir, 'index.m3u8'), '#EXTM3U\n');
  }
}

/** Gives stream directory m3u_proxy_hls_1 of `root` (a streamTree) a subdirectory `variant` holding one empty segment. */
export function addVariant(root: string): void {
  mkdirSync(join(root, 'm3u_proxy_hls_1', 'variant'));
  writeFileSync(join(root, 'm3u_proxy_hls_1', 'variant', 'segment.ts'), '');
}

/** Compiles C `source` with gcc into `dir` and returns the program's path. */
export function compileC(dir: string, name: string, source: string): string {
  const file = join(dir, `${name}.c`);
  const program = join(dir, name);
  writeFileSync(file, source);
  const result = spawnSync('gcc', ['-O2', '-o', program, file], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`gcc ${file} failed: ${result.stderr}`);
  chmodSync(program, 0o755);
  return program;
}

/** Mounts a fresh ext4 image of `size` (such as "32M") on a new directory, for what tmpfs lacks (chattr +i); unmounted after the test. */
export function mountExt4(t: TestContext, dir: string, size: string): string {
  const image = `${dir}.ext4`;
  const run = (file: string, args: readonly string[]): void => {
    const result = spawnSync(file, args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} failed: ${result.stderr}`);
  };
  run('truncate', ['-s', size, image]);
  run('mkfs.ext4', ['-q', '-F', image]);
  mkdirSync(dir, { recursive: true });
  run('mount', ['-o', 'loop', image, dir]);
  defer(t, () => {
    if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
  });
  return dir;
}

/** Runs hls-bootstrap `args` on HLS_TEMP_DIR `dir` under strace with `options` (such as -P NAME -e inject=...), as root, for WWWUSER hlsb-www unless `env` names another. */
export function traced(t: TestContext, dir: string, options: readonly string[], args: readonly string[], env: Record<string, string> = {}): CliResult {
  const cwd = tempDir(t);
  const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', ...options, BIN, ...args],
    { cwd, encoding: 'utf8', env: { PATH, HOME: cwd, HLS_TEMP_DIR: dir, WWWUSER: 'hlsb-www', WWWGROUP: 'hlsb-www', ...renderTo(cwd), ...env } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
