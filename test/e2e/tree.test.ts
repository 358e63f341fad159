// The walk's safety mechanism and its parallel helpers, on real directories.

import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, renameSync, symlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TreeChanged, enter, idOf, leave } from '../../src/2-storage/tree.ts';
import { cli, renderTo, tempDir } from '../support/cli.ts';
import { needsRoot } from '../support/require.ts';
import { ensureUser, mountTmpfs, ownerOf } from '../support/system.ts';

/** Runs `body` with the working directory at `dir`, and puts it back. */
function inside(dir: string, body: () => void): void {
  const home = process.cwd();
  process.chdir(dir);
  try {
    body();
  } finally {
    process.chdir(home);
  }
}

test('entering a directory that was swapped for a symlink after it was examined stops the walk', (t) => {
  const base = tempDir(t);
  mkdirSync(join(base, 'stream'));
  mkdirSync(join(base, 'elsewhere'));
  inside(base, () => {
    const id = idOf('stream');
    renameSync('stream', 'moved-away');
    symlinkSync(join(base, 'elsewhere'), 'stream');
    assert.throws(() => {
      enter('stream', id);
    }, TreeChanged);
  });
});

test('leaving a directory that was moved while the walk was inside it stops the walk', (t) => {
  const base = tempDir(t);
  mkdirSync(join(base, 'a', 'stream'), { recursive: true });
  mkdirSync(join(base, 'b'));
  inside(join(base, 'a'), () => {
    const parent = idOf('.');
    enter('stream', idOf('stream'));
    renameSync(join(base, 'a', 'stream'), join(base, 'b', 'stream'));
    assert.throws(() => {
      leave(parent);
    }, TreeChanged);
  });
});

test('a large tree is shared with a helper process, and every entry ends up right', (t) => {
  if (!needsRoot(t)) return;
  const user = ensureUser('hlsb-www');
  // A tmpfs: creating 12,000 files on this machine's disk takes ten seconds.
  const dir = mountTmpfs(t, join(tempDir(t), 'hls'), '64m', ['mode=0755']);
  // Large enough that the directories' sizes (20 bytes an entry on tmpfs) start a helper at once.
  for (let d = 0; d < 100; d++) {
    mkdirSync(join(dir, `m3u_proxy_hls_${d}`), { recursive: true });
    for (let s = 0; s < 400; s++) closeSync(openSync(join(dir, `m3u_proxy_hls_${d}`, `segment_${s}.ts`), 'w'));
  }
  const started = Date.now();
  const cwd = tempDir(t);
  const r = cli(['prepare'], { cwd, env: { HLS_TEMP_DIR: dir, WWWUSER: user.name, ...renderTo(cwd) } });
  t.diagnostic(`prepare took ${Date.now() - started} ms`);
  // 100 directories of 400 segments, and the .gitignore the step wrote already owned.
  assert.match(r.stdout, /Checked 40101 entries inside in [\d.]+ s(, 2 processes)?: re-owned 40100\n/);
  if (availableParallelism() > 1) assert.match(r.stdout, /Checked .*, 2 processes:/);
  for (let d = 0; d < 100; d++) assert.equal(ownerOf(join(dir, `m3u_proxy_hls_${d}`, 'segment_399.ts')), `${user.uid}:${user.gid}`);
});
