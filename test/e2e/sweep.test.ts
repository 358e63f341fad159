// The startup sweep on real trees of controlled ages, on a tmpfs so that the bytes it reports can be checked against statfs.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statfsSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { SweepCounts } from '../../src/2-storage/sweep-counts.ts';
import { BIN, PATH, cli, renderTo, tempDir } from '../support/cli.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { ensureUser, mountTmpfs, snapshot } from '../support/system.ts';
import { reachableDir } from '../support/storage.ts';
import { waitFor } from '../support/processes.ts';
import { assertStoppedPromptly, bigTree, helpersRunning, startHls } from '../support/stop.ts';

const HOURS = 3600;
const now = Date.now() / 1000;

/** Sets the mtime (and atime) of `path` to `ageSeconds` ago. */
function age(path: string, ageSeconds: number): void {
  utimesSync(path, now - ageSeconds, now - ageSeconds);
}

/** A stream directory of `segments` segments of `size` bytes, every entry `ageSeconds` old (the directory last). */
function stream(root: string, name: string, segments: number, size: number, ageSeconds: number): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (let i = 0; i < segments; i++) {
    writeFileSync(join(dir, `segment_${i}.ts`), Buffer.alloc(size, 7));
    age(join(dir, `segment_${i}.ts`), ageSeconds);
  }
  age(dir, ageSeconds);
  return dir;
}

function free(path: string): number {
  const st = statfsSync(path);
  return st.bavail * st.bsize;
}

interface Tree {
  readonly hls: string;
  readonly outside: string;
  readonly goes: string[];
  readonly stays: string[];
}

/** Every case the issue names, in one HLS directory on its own tmpfs. */
function tree(t: TestContext): Tree {
  const base = reachableDir(t);
  const hls = mountTmpfs(t, join(base, 'hls'), '64m', ['mode=0755']);
  const outside = join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'precious.ts'), 'keep me');
  age(join(outside, 'precious.ts'), 10 * HOURS);
  age(outside, 10 * HOURS);
  const oldNested = stream(hls, 'm3u_proxy_hls_old_nested', 3, 5000, 5 * HOURS);
  mkdirSync(join(oldNested, 'variant'));
  writeFileSync(join(oldNested, 'variant', 'segment.ts'), Buffer.alloc(9000, 1));
  age(join(oldNested, 'variant', 'segment.ts'), 5 * HOURS);
  age(join(oldNested, 'variant'), 5 * HOURS);
  age(oldNested, 5 * HOURS);
  const oldFresh = stream(hls, 'm3u_proxy_hls_old_one_fresh', 4, 3000, 5 * HOURS);
  writeFileSync(join(oldFresh, 'segment_4.ts'), 'being written');
  age(oldFresh, 5 * HOURS);
  const mounted = join(hls, 'm3u_proxy_hls_old_with_mount');
  mkdirSync(mounted);
  const inner = mountTmpfs(t, join(mounted, 'mnt'), '1m');
  writeFileSync(join(inner, 'other-fs.ts'), 'x');
  age(join(inner, 'other-fs.ts'), 5 * HOURS);
  age(inner, 5 * HOURS);
  age(mounted, 5 * HOURS);
  symlinkSync(outside, join(hls, 'm3u_proxy_hls_link_outside'));
  writeFileSync(join(hls, 'm3u_proxy_hls_regular_file'), 'not a directory');
  age(join(hls, 'm3u_proxy_hls_regular_file'), 5 * HOURS);
  const unrelated = stream(hls, 'other_old_dir', 2, 100, 5 * HOURS);
  return {
    hls,
    outside,
    goes: [stream(hls, 'm3u_proxy_hls_old', 20, 10_000, 3 * HOURS), oldNested, stream(hls, 'm3u_proxy_hls_empty_old', 0, 0, 3 * HOURS)],
    stays: [stream(hls, 'm3u_proxy_hls_young', 5, 1000, 60), stream(hls, 'm3u_proxy_hls_just_under', 2, 100, 7100), oldFresh, mounted,
      join(hls, 'm3u_proxy_hls_link_outside'), join(hls, 'm3u_proxy_hls_regular_file'), unrelated],
  };
}

describe('sweep', () => {
  test('exactly the stale stream directories go, and the bytes it reports are what statfs sees freed', (t) => {
    if (!needsRoot(t)) return;
    const { hls, outside, goes, stays } = tree(t);
    const outsideBefore = snapshot(outside);
    const before = free(hls);
    const r = cli(['sweep', '--json'], { env: { HLS_TEMP_DIR: hls } });
    assert.equal(r.code, 0, r.stderr);
    const freed = free(hls) - before;
    for (const dir of goes) assert.ok(!existsSync(dir), `${dir} should have gone`);
    for (const path of stays) assert.ok(existsSync(path), `${path} should have stayed`);
    assert.deepEqual(snapshot(outside), outsideBefore, 'the link\'s target is untouched');
    assert.ok(existsSync(join(hls, 'm3u_proxy_hls_old_with_mount', 'mnt', 'other-fs.ts')));
    const doc = JSON.parse(r.stdout) as { steps: { sweep: { counts: { removed: number; young: number; notDirectory: number; other: number; bytes: number; failures: string[] } } } };
    const c = doc.steps.sweep.counts;
    assert.deepEqual([c.removed, c.young, c.notDirectory, c.other], [3, 3, 2, 1]);
    assert.equal(c.bytes, freed);
    assert.ok(freed >= 20 * 10_000 + 3 * 5000 + 9000, `${freed} bytes`);
    assert.match(c.failures[0] ?? '', /m3u_proxy_hls_old_with_mount: another filesystem is mounted inside; kept/);
    assert.match(r.stderr, /not swept: m3u_proxy_hls_old_with_mount: another filesystem is mounted inside/);
  });

  test('--dry-run lists what would go and removes nothing', (t) => {
    if (!needsRoot(t)) return;
    const { hls, goes } = tree(t);
    const before = snapshot(hls);
    const r = cli(['sweep', '--dry-run'], { env: { HLS_TEMP_DIR: hls } });
    assert.equal(r.code, 0, r.stderr);
    for (const dir of goes) assert.match(r.stdout, new RegExp(`\\[dry run\\] would remove ${dir.split('/').at(-1) ?? ''} \\(\\d+ entries, \\d+ bytes\\)`));
    assert.match(r.stdout, /\[dry run\] Sweep: would remove 3 stale stream directories, [\d.]+ KiB to reclaim; kept 3 too young, 2 not a directory, 1 for other reasons/);
    assert.deepEqual(snapshot(hls), before);
  });

  test('in the startup it runs before the ownership walk and the disk check, so neither sees what went', (t) => {
    if (!needsRoot(t)) return;
    const { hls, goes } = tree(t);
    const cwd = tempDir(t);
    const r = cli(['prepare'], { cwd, env: { HLS_TEMP_DIR: hls, WWWUSER: ensureUser('hlsb-www').name, ...renderTo(cwd) } });
    assert.equal(r.code, 0, r.stderr);
    for (const dir of goes) assert.ok(!existsSync(dir));
    const lines = r.stdout.split('\n');
    const sweepLine = lines.findIndex((l) => l.includes('Sweep: removed 3 stale stream directories'));
    const walkLine = lines.findIndex((l) => l.includes('Checked '));
    const diskLine = lines.findIndex((l) => l.includes('Available disk space'));
    assert.ok(sweepLine >= 0 && sweepLine < walkLine && walkLine < diskLine, r.stdout);
    // What is left: young (6 entries), just under (3), old with a fresh segment (6), the directory holding a
    // mount and its mount point (2), the link, the file, the unrelated directory (3), and the .gitignore.
    assert.match(lines[walkLine] ?? '', /Checked 23 entries inside/);
  });

  test('HLS_STARTUP_SWEEP=false or HLS_GC_ENABLED=false: nothing goes', (t) => {
    if (!needsRoot(t)) return;
    for (const off of [{ HLS_STARTUP_SWEEP: 'false' }, { HLS_GC_ENABLED: 'no' }]) {
      const { hls, goes } = tree(t);
      const cwd = tempDir(t);
      const r = cli(['prepare'], { cwd, env: { HLS_TEMP_DIR: hls, ...renderTo(cwd), ...off } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Sweep skipped: ${Object.keys(off)[0] ?? ''}=false`));
      for (const dir of goes) assert.ok(existsSync(dir));
    }
  });

  test('a directory that cannot be removed is a warning; the rest go and the start goes on', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'setpriv')) return;
    const runner = ensureUser('hlsb-runner');
    const { hls } = tree(t);
    // The runner owns the HLS directory and one stale stream directory; the other stale ones are root's.
    chmodSync(dirname(hls), 0o755);
    chownSync(hls, runner.uid, runner.gid);
    const own = stream(hls, 'm3u_proxy_hls_runners', 2, 100, 4 * HOURS);
    chownSync(own, runner.uid, runner.gid);
    for (const name of readdirSync(own)) chownSync(join(own, name), runner.uid, runner.gid);
    const cwd = tempDir(t);
    chmodSync(cwd, 0o777);
    const r = cli(['prepare'], { cwd, env: { HLS_TEMP_DIR: hls, ...renderTo(cwd) }, setpriv: [`--reuid=${runner.uid}`, `--regid=${runner.gid}`, '--clear-groups'] });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(own));
    assert.match(r.stderr, /not swept: m3u_proxy_hls_old: m3u_proxy_hls_old\/segment_\d+\.ts: permission denied \(EACCES\); what is left stays, with its times as they were\n/);
    assert.ok(existsSync(join(hls, 'm3u_proxy_hls_old')));
  });

  test('many stale directories are shared with a helper process, and all go', (t) => {
    if (!needsRoot(t)) return;
    const hls = mountTmpfs(t, join(tempDir(t), 'hls'), '256m', ['mode=0755']);
    // Large enough that the directories' sizes (20 bytes an entry on tmpfs) start a helper at once.
    for (let d = 0; d < 100; d++) stream(hls, `m3u_proxy_hls_${d}`, 400, 0, 5 * HOURS);
    const r = cli(['sweep'], { env: { HLS_TEMP_DIR: hls } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Sweep: removed 100 stale stream directories/);
    if (availableParallelism() > 1) assert.match(r.stdout, /, 2 processes\)/);
    assert.deepEqual(readdirSync(hls), []);
  });

  test('names that are not UTF-8 are swept exactly, and shown escaped in the listing and in --json', (t) => {
    if (!needsRoot(t)) return;
    const hls = mountTmpfs(t, join(tempDir(t), 'hls'), '16m', ['mode=0755']);
    const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(p as never)));
    const dir = bytes(hls, '/m3u_proxy_hls_', [0xff, 0x0a]);
    mkdirSync(dir);
    const segment = bytes(hls, '/m3u_proxy_hls_', [0xff, 0x0a], '/segment_', [0xfe], '.ts');
    writeFileSync(segment, 'x');
    utimesSync(segment, now - 5 * HOURS, now - 5 * HOURS);
    utimesSync(dir, now - 5 * HOURS, now - 5 * HOURS);
    const dry = cli(['sweep', '--dry-run'], { env: { HLS_TEMP_DIR: hls } });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /\[dry run\] would remove m3u_proxy_hls_\\xff\\n \(1 entry, \d+ bytes\)\n/);
    const r = cli(['sweep', '--json'], { env: { HLS_TEMP_DIR: hls } });
    assert.equal(r.code, 0, r.stderr);
    const c = (JSON.parse(r.stdout) as { steps: { sweep: { counts: SweepCounts } } }).steps.sweep.counts;
    assert.equal(c.removed, 1);
    assert.match(c.removedNames[0] ?? '', /^m3u_proxy_hls_\\xff\\n \(1 entry, \d+ bytes\)$/);
    assert.deepEqual(readdirSync(hls), []);
  });

  test('a directory it could not empty keeps its times, and the next sweep judges it by what is left', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'strace')) return;
    const hls = mountTmpfs(t, join(tempDir(t), 'hls'), '16m', ['mode=0755']);
    const dir = stream(hls, 'm3u_proxy_hls_stuck', 5, 100, 5 * HOURS);
    mkdirSync(join(dir, 'variant'));
    for (const name of ['variant/segment.ts', 'stuck.ts']) writeFileSync(join(dir, name), 'x');
    for (const path of [join(dir, 'stuck.ts'), join(dir, 'variant', 'segment.ts'), join(dir, 'variant'), dir]) age(path, 5 * HOURS);
    const before = statSync(dir).mtimeMs;
    // Unlinking stuck.ts fails, as an immutable file or a vanished permission would make it.
    const traced = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-P', 'stuck.ts', '-e', 'inject=unlink,unlinkat:error=EPERM', BIN, 'sweep'],
      { encoding: 'utf8', env: { PATH, HLS_TEMP_DIR: hls } });
    assert.equal(traced.status, 0, traced.stderr);
    assert.match(traced.stderr, /not swept: m3u_proxy_hls_stuck: m3u_proxy_hls_stuck\/stuck\.ts: operation not permitted \(EPERM\); what is left stays, with its times as they were\n/);
    assert.deepEqual(readdirSync(dir), ['stuck.ts'], 'the rest went');
    assert.equal(statSync(dir).mtimeMs, before, 'its removals did not make it look young');
    const again = cli(['sweep'], { env: { HLS_TEMP_DIR: hls } });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Sweep: removed 1 stale stream directory, /);
    assert.ok(!existsSync(dir));
  });

  test('a stream directory dated in the future is kept and reported', (t) => {
    if (!needsRoot(t)) return;
    const hls = mountTmpfs(t, join(tempDir(t), 'hls'), '16m', ['mode=0755']);
    const ahead = stream(hls, 'm3u_proxy_hls_ahead', 2, 10, -3 * HOURS);
    const inside = stream(hls, 'm3u_proxy_hls_inside', 2, 10, 5 * HOURS);
    writeFileSync(join(inside, 'from-a-fast-clock.ts'), '');
    age(join(inside, 'from-a-fast-clock.ts'), -3 * HOURS);
    age(inside, 5 * HOURS);
    const r = cli(['sweep', '--json'], { env: { HLS_TEMP_DIR: hls } });
    assert.equal(r.code, 0, r.stderr);
    for (const dir of [ahead, inside]) assert.ok(existsSync(dir), dir);
    const c = (JSON.parse(r.stdout) as { steps: { sweep: { counts: SweepCounts } } }).steps.sweep.counts;
    assert.deepEqual([c.removed, c.young, c.future], [0, 0, 2]);
    assert.match(r.stderr, /Kept, dated in the future \(is a clock wrong\?\): m3u_proxy_hls_(ahead|inside) \(an entry is dated \d{4}-\d\d-\d\dT[\d:.]+Z, 3 h ahead of this clock\), /);
    const log = cli(['sweep'], { env: { HLS_TEMP_DIR: hls } });
    assert.match(log.stdout, /Sweep: removed 0 stale stream directories, 0 B reclaimed; kept 2 dated in the future/);
  });

  test('in a shared sticky directory, another user\'s stale stream directory is kept and named; root\'s and WWWUSER\'s go', (t) => {
    if (!needsRoot(t)) return;
    const www = ensureUser('hlsb-www');
    const other = ensureUser('hlsb-other');
    const hls = mountTmpfs(t, join(reachableDir(t), 'shm'), '16m', ['mode=1777']);
    const roots = stream(hls, 'm3u_proxy_hls_roots', 2, 10, 5 * HOURS);
    const owned = (name: string, user: { uid: number; gid: number }): string => {
      const dir = stream(hls, name, 2, 10, 5 * HOURS);
      for (const entry of readdirSync(dir)) chownSync(join(dir, entry), user.uid, user.gid);
      chownSync(dir, user.uid, user.gid);
      age(dir, 5 * HOURS);
      return dir;
    };
    const wwws = owned('m3u_proxy_hls_wwws', www);
    const theirs = owned('m3u_proxy_hls_theirs', other);
    const r = cli(['sweep'], { env: { HLS_TEMP_DIR: hls, WWWUSER: www.name } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(roots) && !existsSync(wwws));
    assert.ok(existsSync(join(theirs, 'segment_1.ts')));
    assert.match(r.stdout, /Sweep: removed 2 stale stream directories, .*; kept 1 of other users/);
    assert.match(r.stdout, new RegExp(`Kept, other users' in a shared directory: m3u_proxy_hls_theirs \\(uid ${other.uid} \\(hlsb-other\\)\\)\\n`));
  });

  test('a stop during the sweep, as PID 1: 128+N within a second, no helper left, and what is left is still judged old', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'unshare') || !needsProgram(t, 'gcc')) return;
    const hls = mountTmpfs(t, join(reachableDir(t), 'hls'), '1g', ['nr_inodes=1000000', 'mode=0755']);
    const DIRS = 300;
    await bigTree(tempDir(t), hls, DIRS, 1000, 5 * HOURS);
    for (const [signal, number] of [['SIGTERM', 15], ['SIGINT', 2], ['SIGHUP', 1]] as const) {
      const cwd = tempDir(t);
      const run = await startHls(t, ['sweep'], cwd, { HLS_TEMP_DIR: hls }, true);
      const helpers = await helpersRunning(run.node);
      // Into the removals, not only the first look: once one more directory has gone.
      const before = readdirSync(hls).length;
      await waitFor('a directory removed', () => (readdirSync(hls).length < before ? true : undefined), 60_000, 5);
      await assertStoppedPromptly(run, signal, number, 'the sweep', helpers);
    }
    const left = readdirSync(hls).length;
    assert.ok(left > 0 && left < DIRS, `${left} of ${DIRS} stream directories left`);
    // Directories it was inside when stopped got their times back: none looks young now.
    const r = cli(['sweep'], { env: { HLS_TEMP_DIR: hls }, timeout: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Sweep: removed ${left} stale stream director(y|ies), [^;]* reclaimed \\(`));
    assert.deepEqual(readdirSync(hls), []);
  });

  test('an HLS directory that does not exist has nothing to sweep', (t) => {
    const r = cli(['sweep'], { env: { HLS_TEMP_DIR: join(tempDir(t), 'nope') } });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Nothing to sweep: .*nope does not exist/);
  });
});
