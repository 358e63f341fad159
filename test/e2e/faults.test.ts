// A faulty filesystem under the storage step and the sweep, its errors injected with strace: one entry's fault costs that entry only.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { SweepCounts } from '../../src/2-storage/sweep-counts.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { addVariant, reachableDir, streamTree, traced } from '../support/storage.ts';
import { ensureUser, ownerOf, snapshot } from '../support/system.ts';

function stale(path: string): void {
  const old = new Date(Date.now() - 24 * 3600 * 1000);
  utimesSync(path, old, old);
}

describe('faults injected into the calls the walk and the sweep make', () => {
  test('a stream directory the kernel cannot even lstat (EIO) is kept and named; the others go, and the start goes on', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'strace')) return;
    ensureUser('hlsb-www');
    const dir = join(reachableDir(t), 'hls');
    for (const name of ['m3u_proxy_hls_bad', 'm3u_proxy_hls_good']) {
      mkdirSync(join(dir, name), { recursive: true });
      writeFileSync(join(dir, name, 'segment.ts'), '');
      stale(join(dir, name, 'segment.ts'));
      stale(join(dir, name));
    }
    // The first lstat of that name is the sweep's.
    const r = traced(t, dir, ['-P', 'm3u_proxy_hls_bad', '-e', 'inject=statx,newfstatat,lstat:error=EIO:when=1'], ['prepare']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Sweep: removed 1 stale stream directory, .*; kept 1 for other reasons/);
    assert.match(r.stderr, /not swept: m3u_proxy_hls_bad: i\/o error \(EIO\); kept\n/);
    assert.ok(existsSync(join(dir, 'm3u_proxy_hls_bad', 'segment.ts')));
    assert.ok(!existsSync(join(dir, 'm3u_proxy_hls_good')));
    assert.equal(ownerOf(join(dir, 'm3u_proxy_hls_bad', 'segment.ts')), ownerOf(dir), 'and the walk re-owned it');

    const json = traced(t, dir, ['-P', 'm3u_proxy_hls_bad', '-e', 'inject=statx,newfstatat,lstat:error=EIO:when=1'], ['sweep', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const counts = (JSON.parse(json.stdout) as { steps: { sweep: { counts: SweepCounts } } }).steps.sweep.counts;
    assert.deepEqual(counts.failures, ['m3u_proxy_hls_bad: i/o error (EIO); kept']);
  });

  for (const errno of ['EIO', 'ESTALE']) {
    test(`a directory that cannot be opened (${errno}) is counted and named; every other entry is re-owned`, (t) => {
      if (!needsRoot(t) || !needsProgram(t, 'strace')) return;
      const user = ensureUser('hlsb-www');
      const dir = join(reachableDir(t), 'hls');
      streamTree(dir, 3, 5);
      addVariant(dir);
      const r = traced(t, dir, ['-P', 'variant', '-e', `inject=openat:error=${errno}`], ['prepare'], { HLS_STARTUP_SWEEP: 'false' });
      assert.equal(r.code, 0, r.stderr);
      // Node has no name for ESTALE, a network filesystem's: the log names it all the same, and never the path.
      const shown = errno === 'EIO' ? 'i/o error \\(EIO\\)' : 'system error ESTALE';
      assert.match(r.stdout, /: re-owned 21; left alone: 1 unreadable directory\n/);
      assert.match(r.stderr, new RegExp(`Could not be entered or read: m3u_proxy_hls_1/variant: ${shown}\\n`));
      for (const [path] of snapshot(dir)) {
        if (!path.includes('variant')) assert.equal(ownerOf(path), `${user.uid}:${user.gid}`, path);
      }
    });
  }

  test('HLS_TEMP_DIR itself that cannot be listed is 73, in one line', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'strace')) return;
    ensureUser('hlsb-www');
    const dir = join(reachableDir(t), 'hls');
    streamTree(dir, 2, 2);
    for (const command of ['prepare', 'sweep']) {
      const r = traced(t, dir, ['-P', dir, '-e', 'inject=getdents64:error=EIO'], [command]);
      assert.equal(r.code, 73, r.stderr);
      assert.equal(r.stderr, `hls-bootstrap: cannot prepare HLS_TEMP_DIR ${dir}: cannot list it: i/o error (EIO)\n`);
    }
  });

  test('a directory the walk cannot go back into (its owner took search permission away) is given up; the walk goes on', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'strace')) return;
    const user = ensureUser('hlsb-www');
    const dir = join(reachableDir(t), 'hls');
    mkdirSync(join(dir, 'm3u_proxy_hls_1', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'm3u_proxy_hls_1', 'sub', 'segment.ts'), '');
    // The walk's fourth chdir goes back from sub into m3u_proxy_hls_1: into HLS_TEMP_DIR, m3u_proxy_hls_1, sub, back.
    const r = traced(t, dir, ['-e', 'inject=chdir:error=EACCES:when=4'], ['prepare'], { HLS_STARTUP_SWEEP: 'false' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Could not be entered or read: m3u_proxy_hls_1: permission denied \(EACCES\)\n/);
    assert.equal(ownerOf(join(dir, 'm3u_proxy_hls_1', 'sub', 'segment.ts')), `${user.uid}:${user.gid}`);
    assert.equal(ownerOf(join(dir, '.gitignore')), `${user.uid}:${user.gid}`);
    // Given up: it was not re-owned from the wrong place.
    assert.equal(ownerOf(join(dir, 'm3u_proxy_hls_1')), '0:0');
  });
});
