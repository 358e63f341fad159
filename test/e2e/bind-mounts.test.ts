// Bind mounts inside HLS_TEMP_DIR of the same filesystem, whose device is their source's: neither re-owned nor swept.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { cli, defer, renderTo, tempDir } from '../support/cli.ts';
import { needsRoot } from '../support/require.ts';
import { reachableDir } from '../support/storage.ts';
import { ensureUser, mountTmpfs, ownerOf, snapshot } from '../support/system.ts';

/** Bind-mounts `source` on `target` (made first, as a directory or a file like `source`); unmounted when the test ends. */
function bind(t: TestContext, source: string, target: string, file = false): void {
  if (file) writeFileSync(target, '');
  else mkdirSync(target, { recursive: true });
  const result = spawnSync('mount', ['--bind', source, target], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`mount --bind ${source} ${target}: ${result.stderr}`);
  defer(t, () => {
    spawnSync('umount', ['-l', target]);
  });
}

test('a directory or a file bind-mounted from the same filesystem is neither re-owned nor emptied by the sweep', (t) => {
  if (!needsRoot(t)) return;
  const user = ensureUser('hlsb-www');
  // One filesystem for both, so that the mounts inside have the device of the tree itself.
  const fs = mountTmpfs(t, join(reachableDir(t), 'fs'), '16m', ['mode=0755']);
  const outside = join(fs, 'outside');
  const old = new Date(Date.now() - 24 * 3600 * 1000);
  for (const dir of ['recordings', 'library', 'shared']) {
    mkdirSync(join(outside, dir), { recursive: true });
    writeFileSync(join(outside, dir, 'precious.ts'), 'keep me');
    utimesSync(join(outside, dir, 'precious.ts'), old, old);
    utimesSync(join(outside, dir), old, old);
  }
  writeFileSync(join(outside, 'settings.json'), '{}');
  const hls = join(fs, 'hls');
  const stale = join(hls, 'm3u_proxy_hls_stale');
  mkdirSync(stale, { recursive: true });
  writeFileSync(join(stale, 'segment.ts'), '');
  // Inside a stale stream directory, as a stream directory itself, and in a directory of the tree.
  bind(t, join(outside, 'recordings'), join(stale, 'recordings'));
  bind(t, join(outside, 'library'), join(hls, 'm3u_proxy_hls_library'));
  bind(t, join(outside, 'shared'), join(hls, 'live', 'shared'));
  bind(t, join(outside, 'settings.json'), join(hls, 'live', 'settings.json'), true);
  for (const path of [join(stale, 'segment.ts'), stale, join(hls, 'm3u_proxy_hls_library')]) utimesSync(path, old, old);
  const before = snapshot(outside);

  const cwd = tempDir(t);
  const r = cli(['prepare'], { cwd, env: { HLS_TEMP_DIR: hls, WWWUSER: user.name, WWWGROUP: user.name, ...renderTo(cwd) } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(snapshot(outside), before, 'nothing of the mounts\' sources changed');
  assert.match(r.stdout, /Sweep: removed 0 stale stream directories, 0 B reclaimed; kept 2 for other reasons/);
  assert.match(r.stderr, /not swept: m3u_proxy_hls_stale: another filesystem is mounted inside; kept\n/);
  assert.match(r.stderr, /not swept: m3u_proxy_hls_library: another filesystem is mounted inside; kept\n/);
  assert.match(r.stdout, /; left alone: 4 mount points of other filesystems\n/);
  // The rest of the tree is the proxy's.
  assert.equal(ownerOf(join(stale, 'segment.ts')), `${user.uid}:${user.gid}`);
  assert.equal(ownerOf(join(hls, 'live')), `${user.uid}:${user.gid}`);
});
