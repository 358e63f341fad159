// `npm run bench`: ratios against a baseline measured in the same run, never absolute times.
//
// Each pair of commands runs alternately on identical inputs, several rounds; the ratio of the
// medians is printed beside the target the issues set. Needs root (it re-owns trees).

import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, PATH, renderTo } from '../support/cli.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

function time(file: string, args: readonly string[], env: Record<string, string> = {}): number {
  const started = performance.now();
  const result = spawnSync(file, args, { env: { PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

interface Row {
  readonly name: string;
  readonly ours: number;
  readonly baseline: number;
  /** The ratio an issue asks for; undefined for rows that only explain another. */
  readonly target: number | undefined;
}

const rows: Row[] = [];

/** Runs `ours` and `baseline` alternately, each after `reset`, and records the ratio of medians. */
function compare(name: string, target: number | undefined, ours: () => number, baseline: () => number, reset: () => void = () => undefined): void {
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    reset();
    a.push(ours());
    b.push(baseline());
  }
  rows.push({ name, ours: median(a), baseline: median(b), target });
}

/** A tree like a crashed proxy leaves: `dirs` stream directories of `segments` empty segments. */
function streamTree(root: string, dirs: number, segments: number): void {
  mkdirSync(root);
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `m3u_proxy_hls_${d}`);
    mkdirSync(dir);
    for (let s = 0; s < segments; s++) closeSync(openSync(join(dir, `segment_${String(s).padStart(3, '0')}.ts`), 'w'));
  }
}

function sh(script: string): void {
  const result = spawnSync('sh', ['-c', script], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`sh -c ${script} failed`);
}

function storage(work: string): void {
  const ours = join(work, 'ours');
  const theirs = join(work, 'chown');
  streamTree(ours, 200, 500);
  sh(`cp -a ${ours} ${theirs}`);
  const env = { HLS_TEMP_DIR: ours, WWWUSER: '65534', WWWGROUP: '65534', ...renderTo(work) };
  const prepare = (): number => time(BIN, ['prepare', '--quiet'], env);
  const chown = (): number => time('sh', ['-c', `chown -R 65534:65534 ${theirs} && chmod 755 ${theirs}`]);
  const disown = (): void => {
    sh(`chown -R 0:0 ${ours} ${theirs}`);
  };
  compare('prepare vs chown -R + chmod, cold tree (100,201 entries owned by root)', 2.0, prepare, chown, disown);
  compare('prepare vs chown -R + chmod, warm tree (already right)', 0.8, prepare, chown);
  // Directories another user can write: no name in them is safe, so every entry goes through an
  // O_PATH handle checked with fstat (five system calls where chown -R makes two).
  const foreign = (): void => {
    disown();
    sh(`find ${ours} ${theirs} -mindepth 1 -type d -exec chown 65533:65533 {} +`);
  };
  compare('prepare vs chown -R + chmod, cold tree in directories another user owns (every entry through a verified handle)', undefined, prepare, chown, foreign);
}

function startupSpeed(work: string): void {
  const dir = join(work, 'startup');
  mkdirSync(dir);
  const env = { HLS_TEMP_DIR: join(dir, 'hls'), ...renderTo(dir) };
  const run = (): number => time(BIN, ['run', '--quiet', '--', 'true'], env);
  const node = (): number => time(process.execPath, ['-e', '0']);
  run();
  compare('run -- true on an empty directory (whole process) vs node -e 0', 1.5, run, node);
  // The disk check alone, as Docker's HEALTHCHECK runs it every 30 s: statfs, no child process.
  // Thresholds of 0, so that it exits 0 however full the machine's disk is.
  const checkDisk = ['check-disk', '--path', dir, '--warn', '0', '--critical', '0', '--inode-warn', '0', '--inode-critical', '0'];
  compare('check-disk on an existing directory (whole process) vs node -e 0', 1.3, () => time(BIN, checkDisk), node);
  // Where the time of the first row goes: the start-up without the storage and disk steps.
  compare('  of which: run -- true with M3U_PROXY_ENABLED=false (no storage or disk step) vs node -e 0', undefined,
    () => time(BIN, ['run', '--quiet', '--', 'true'], { ...env, M3U_PROXY_ENABLED: 'false' }), node);
}

function sweep(work: string): void {
  // On a tmpfs: three copies of 100,201 entries per round would take minutes on this disk.
  const fs = join(work, 'sweep');
  mkdirSync(fs);
  sh(`mount -t tmpfs -o size=1g,nr_inodes=1000000 tmpfs ${fs}`);
  try {
    const template = join(fs, 'template');
    streamTree(template, 200, 500);
    sh(`find ${template} -exec touch -d '5 hours ago' {} +`);
    const ours = join(fs, 'ours');
    const theirs = join(fs, 'find');
    const reset = (): void => {
      sh(`rm -rf ${ours} ${theirs} && cp -a ${template} ${ours} && cp -a ${template} ${theirs}`);
    };
    compare('sweep vs find -mindepth 1 -maxdepth 1 -name \'m3u_proxy_hls_*\' -exec rm -rf {} +, 200 stale directories x 500 segments', 1.5,
      () => time(BIN, ['sweep', '--quiet'], { HLS_TEMP_DIR: ours }),
      () => time('sh', ['-c', `find ${theirs} -mindepth 1 -maxdepth 1 -name 'm3u_proxy_hls_*' -exec rm -rf {} +`]),
      reset);
  } finally {
    sh(`umount ${fs}`);
  }
}

if (process.geteuid?.() !== 0) {
  console.log('npm run bench needs root: it re-owns trees of 100,201 entries.');
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), 'hls-bootstrap-bench-'));
// WWWUSER must be able to pass through it to reach HLS_TEMP_DIR; mkdtemp makes it 0700.
chmodSync(work, 0o755);
try {
  const only = process.argv[2];
  if (only === undefined || only === '--startup') startupSpeed(work);
  if (only === undefined || only === '--storage') storage(work);
  if (only === undefined || only === '--sweep') sweep(work);
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`Medians of ${ROUNDS} alternating rounds; lower is better.\n`);
for (const row of rows) {
  const ratio = row.ours / row.baseline;
  const verdict = row.target === undefined ? '' : `, target <= ${row.target} (${ratio <= row.target ? 'meets' : 'MISSES'})`;
  console.log(`${row.name}\n  ${row.ours.toFixed(0)} ms vs ${row.baseline.toFixed(0)} ms: ratio ${ratio.toFixed(2)}${verdict}`);
}
