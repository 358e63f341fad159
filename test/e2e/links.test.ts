// HLS_TEMP_DIR's own path, as root, when the proxy's user may write a directory on it: a link it
// plants there, before the start or while the start creates the missing parents, leads nowhere.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { BIN, PATH, cli, renderTo, tempDir, type CliResult } from '../support/cli.ts';
import { waitFor } from '../support/processes.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { reachableDir } from '../support/storage.ts';
import { ensureUser, ownerOf, snapshot, type TestUser } from '../support/system.ts';

function env(user: TestUser, dir: string, cwd: string): Record<string, string> {
  return { HLS_TEMP_DIR: dir, WWWUSER: user.name, WWWGROUP: user.name, ...renderTo(cwd) };
}

function run(t: TestContext, command: string, user: TestUser, dir: string): CliResult {
  const cwd = tempDir(t);
  return cli([command], { cwd, env: env(user, dir, cwd) });
}

/** A directory `outside` with a root file and a stale stream directory, and `app`, which `user` owns, beside it. */
function layout(t: TestContext, user: TestUser): { app: string; outside: string } {
  const base = reachableDir(t);
  const outside = join(base, 'outside');
  mkdirSync(join(outside, 'm3u_proxy_hls_stale'), { recursive: true });
  writeFileSync(join(outside, 'root-only'), 'root\'s', { mode: 0o600 });
  writeFileSync(join(outside, 'm3u_proxy_hls_stale', 'segment.ts'), '');
  const old = new Date('2020-01-01');
  utimesSync(join(outside, 'm3u_proxy_hls_stale', 'segment.ts'), old, old);
  utimesSync(join(outside, 'm3u_proxy_hls_stale'), old, old);
  const app = join(base, 'app');
  mkdirSync(app);
  chownSync(app, user.uid, user.gid);
  return { app, outside };
}

describe('links on the way to HLS_TEMP_DIR', () => {
  test('a link the proxy\'s user planted as HLS_TEMP_DIR is not followed: 73, and nothing it leads to changes', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const { app, outside } = layout(t, user);
    const dir = join(app, 'hls-segments');
    // What the user can do in a directory it owns, such as m3u-editor's storage/app.
    const planted = spawnSync('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', 'ln', '-s', outside, dir], { encoding: 'utf8' });
    assert.equal(planted.status, 0, planted.stderr);
    const before = snapshot(outside);
    for (const command of ['prepare', 'sweep']) {
      const r = run(t, command, user, dir);
      assert.equal(r.code, 73, `${command}: ${r.stderr}`);
      assert.equal(r.stderr, `hls-bootstrap: cannot prepare HLS_TEMP_DIR ${dir}: ${dir} is a symbolic link (to ${outside}) in ${app}, which users other than root may write `
        + `(owner ${user.uid}:${user.gid}, mode 0755): whoever can write there could point it anywhere, so it is not followed; set HLS_TEMP_DIR to the directory it leads to, `
        + 'or let only root write the directory that holds it\n');
      assert.deepEqual(snapshot(outside), before, `${command}: nothing outside changed`);
    }
    // Deeper in the path, too.
    const deeper = run(t, 'prepare', user, join(dir, 'new', 'hls'));
    assert.equal(deeper.code, 73, deeper.stderr);
    assert.match(deeper.stderr, /is a symbolic link .* so it is not followed/);
    assert.deepEqual(snapshot(outside), before);
  });

  test('a link that only root could have made is followed, as configured', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const base = reachableDir(t);
    mkdirSync(join(base, 'real'));
    symlinkSync(join(base, 'real'), join(base, 'link'));
    const r = run(t, 'prepare', user, join(base, 'link', 'hls'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(ownerOf(join(base, 'real', 'hls')), `${user.uid}:${user.gid}`);
  });

  test('a parent it creates, swapped for a link by the user who may write the one above, leads nowhere', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'strace')) return;
    const user = ensureUser('hlsb-www');
    const { app, outside } = layout(t, user);
    const before = snapshot(outside);
    const dir = join(app, 'a', 'b', 'hls');
    const cwd = tempDir(t);
    // Each mkdir waits a while before the kernel makes the directory, as on a slow disk.
    const start = spawn('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'inject=mkdir,mkdirat:delay_enter=300000', BIN, 'prepare'],
      { cwd, env: { PATH, HOME: cwd, ...env(user, dir, cwd) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    start.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = new Promise<number | null>((resolve) => start.on('close', resolve));
    // The user's move: once the first new directory is there and has been looked at, while the next one is being made in it.
    await waitFor('the first new directory', () => (existsSync(join(app, 'a')) ? true : undefined), 15_000, 2);
    await new Promise((r) => setTimeout(r, 100));
    const swap = spawnSync('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', 'sh', '-c', 'mv "$0/a" "$0/a-away" && ln -s "$1" "$0/a"', app, outside], { encoding: 'utf8' });
    assert.equal(swap.status, 0, swap.stderr);
    assert.equal(await code, 73, stderr);
    assert.match(stderr, new RegExp(`${join(app, 'a')} is a symbolic link \\(to ${outside}\\) in ${app}, which users other than root may write`));
    assert.deepEqual(snapshot(outside), before, 'nothing was created or re-owned through the link');
    // What it made went where it made it.
    assert.equal(ownerOf(join(app, 'a-away', 'b')), '0:0');
  });
});
