// The README's quick start: `npm start` runs the whole startup on the shipped demo environment.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { PATH, ROOT, tempDir } from '../support/cli.ts';

test('npm start runs every step and execs the stand-in proxy in the same process', (t) => {
  // npm keeps its logs under HOME: a fresh one, not the repository.
  const r = spawnSync('npm', ['start', '--silent'], { cwd: ROOT, env: { PATH, HOME: tempDir(t) }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /🎬 Configuring HLS segment storage\.\.\.\n {3}HLS_TEMP_DIR: .*\/docker\/demo\/run\/hls-segments\n/);
  assert.match(r.stdout, /✅ HLS storage configured\n📝 supervisord config written: .*\/docker\/demo\/run\/supervisord\.conf/);
  assert.match(r.stdout, /▶ exec node docker\/demo\/m3u-proxy-stand-in\.mjs\nm3u-proxy stand-in: pid \d+/);
  assert.match(r.stdout, / {2}HLS_GC_INTERVAL=300\n/);
  assert.match(r.stdout, / {2}M3U_PROXY_TOKEN=<48 characters>\n/);
});
