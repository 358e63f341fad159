// The walk's safety mechanism, its pauses and its helpers, on real directories; and a stop in a long walk, as PID 1 and not.

import assert from 'node:assert/strict';
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { O_PATH } from '../../src/2-storage/handles.ts';
import { Pace } from '../../src/2-storage/pace.ts';
import { Walk, placeAt, type Visitor } from '../../src/2-storage/tree.ts';
import { cli, renderTo, tempDir } from '../support/cli.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { reachableDir } from '../support/storage.ts';
import { waitFor } from '../support/processes.ts';
import { assertStoppedPromptly, bigTree, helpersRunning, startHls, stillRunning } from '../support/stop.ts';
import { ensureUser, mountTmpfs, ownerOf } from '../support/system.ts';

/** Walks `home`/`name`, recording every path examined and every directory skipped; `examined(path)` runs after each lstat. */
async function walk(home: string, name: string, examined: (path: string) => void = () => undefined, pace = new Pace()): Promise<{ visited: string[]; skipped: string[] }> {
  const back = process.cwd();
  const fd = openSync(home, O_PATH | constants.O_DIRECTORY);
  const visited: string[] = [];
  const skipped: string[] = [];
  const visitor: Visitor = {
    visit(entry, w) {
      const path = w.path(entry);
      const stat = lstatSync(entry, { throwIfNoEntry: false });
      visited.push(path);
      examined(path);
      return stat?.isDirectory() === true ? stat : undefined;
    },
    skipped(path, why) {
      skipped.push(`${path}: ${why}`);
    },
  };
  process.chdir(home);
  try {
    await new Walk(placeAt(fd, pace)).run(Buffer.from(name), lstatSync(name), visitor);
    assert.equal(process.cwd(), home, 'the walk comes back to where it started');
  } finally {
    process.chdir(back);
    closeSync(fd);
  }
  return { visited, skipped };
}

/** home/top/{a,b}/{1,2} and, beside home, outside/secret. */
function smallTree(t: TestContext): { home: string; outside: string } {
  const base = tempDir(t);
  const home = join(base, 'home');
  for (const dir of ['a', 'b']) {
    mkdirSync(join(home, 'top', dir), { recursive: true });
    for (const file of ['1', '2']) writeFileSync(join(home, 'top', dir, file), '');
  }
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(base, 'outside', 'secret'), '');
  return { home, outside: join(base, 'outside') };
}

describe('the walk', () => {
  test('a directory swapped for a symlink after it was examined is not entered, and the walk goes on', async (t) => {
    const { home, outside } = smallTree(t);
    const r = await walk(home, 'top', (path) => {
      if (path !== 'top/a') return;
      renameSync(join(home, 'top', 'a'), join(home, 'a-away'));
      symlinkSync(outside, join(home, 'top', 'a'));
    });
    assert.deepEqual(r.skipped, ['top/a: changed']);
    assert.deepEqual(r.visited.filter((p) => p.startsWith('top/b')).sort(), ['top/b', 'top/b/1', 'top/b/2']);
    assert.ok(!r.visited.includes('top/a/secret'));
  });

  test('a directory swapped for another directory is not entered either', async (t) => {
    const { home } = smallTree(t);
    const r = await walk(home, 'top', (path) => {
      if (path !== 'top/a') return;
      renameSync(join(home, 'top', 'a'), join(home, 'a-away'));
      mkdirSync(join(home, 'top', 'a'));
      writeFileSync(join(home, 'top', 'a', 'planted'), '');
    });
    assert.deepEqual(r.skipped, ['top/a: changed']);
    assert.ok(!r.visited.includes('top/a/planted'));
    assert.ok(r.visited.includes('top/b/2'));
  });

  test('a directory removed while the walk is inside it: the walk comes back through its parent\'s handle and goes on', async (t) => {
    const { home } = smallTree(t);
    // Whichever of a and b is listed first goes while the walk is in it; the other must still be walked whole.
    let removed: string | undefined;
    const r = await walk(home, 'top', (path) => {
      const match = /^top\/([ab])\/[12]$/.exec(path);
      if (removed !== undefined || match?.[1] === undefined) return;
      removed = match[1];
      rmSync(join(home, 'top', removed), { recursive: true });
    });
    const other = removed === 'a' ? 'b' : 'a';
    assert.deepEqual(r.visited.filter((p) => p.startsWith(`top/${other}`)).sort(), [`top/${other}`, `top/${other}/1`, `top/${other}/2`]);
  });

  test('a directory moved out of the tree while the walk is inside it: the walk comes back to its parent, not to the new one', async (t) => {
    const { home, outside } = smallTree(t);
    let moved: string | undefined;
    const r = await walk(home, 'top', (path) => {
      const match = /^top\/([ab])\/[12]$/.exec(path);
      if (moved !== undefined || match?.[1] === undefined) return;
      moved = match[1];
      renameSync(join(home, 'top', moved), join(outside, moved));
    });
    const other = moved === 'a' ? 'b' : 'a';
    assert.ok(r.visited.includes(`top/${other}/2`), r.visited.join(' '));
    assert.ok(!r.visited.some((p) => p.includes('secret')), 'nothing of the directory it was moved into');
  });

  test('names that are not UTF-8 are walked and shown escaped', async (t) => {
    const home = tempDir(t);
    const dir = Buffer.concat([Buffer.from(`${home}/top/d`), Buffer.from([0xff])]);
    mkdirSync(join(home, 'top'));
    mkdirSync(dir);
    writeFileSync(Buffer.concat([dir, Buffer.from('/'), Buffer.from([0xfe]), Buffer.from('\nx\\')]), '');
    const r = await walk(home, 'top');
    assert.deepEqual(r.visited.sort(), ['top/d\\xff', 'top/d\\xff/\\xfe\\nx\\\\']);
  });

  test('a stop request that arrives while the walk runs ends it at its next pause, with every handle closed', async (t) => {
    const home = tempDir(t);
    for (let d = 0; d < 4; d++) {
      mkdirSync(join(home, 'top', String(d)), { recursive: true });
      for (let f = 0; f < 500; f++) closeSync(openSync(join(home, 'top', String(d), String(f)), 'w'));
    }
    const descriptors = readdirSync('/proc/self/fd').length;
    let asked = false;
    const stop = new Error('stop');
    // A pause at every look at the clock; the request comes as a signal would, from the event loop.
    const pace = new Pace(() => {
      if (asked) throw stop;
    }, 0);
    let seen = 0;
    await assert.rejects(walk(home, 'top', () => {
      if (++seen === 100) {
        setImmediate(() => {
          asked = true;
        });
      }
    }, pace), (error) => error === stop);
    assert.ok(seen < 200, `stopped after ${seen} of 2004 entries`);
    // The walk's directory handles are closed (and the test's own).
    assert.equal(readdirSync('/proc/self/fd').length, descriptors);
  });
});

test('a large tree is shared with a helper process, and every entry ends up right', (t) => {
  if (!needsRoot(t)) return;
  const user = ensureUser('hlsb-www');
  // A tmpfs: creating 12,000 files on this machine's disk takes ten seconds.
  const dir = mountTmpfs(t, join(reachableDir(t), 'hls'), '64m', ['mode=0755']);
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

describe('a stop during a long ownership walk', () => {
  const DIRS = 400;
  const FILES = 1000;
  const SIGNALS = { SIGTERM: 15, SIGINT: 2, SIGHUP: 1 } as const;

  /** A cold tree of DIRS x FILES segments on its own tmpfs, whose walk takes seconds. */
  async function longTree(t: TestContext): Promise<string> {
    const base = reachableDir(t);
    const hls = mountTmpfs(t, join(base, 'hls'), '1g', ['nr_inodes=1000000', 'mode=0755']);
    await bigTree(tempDir(t), hls, DIRS, FILES);
    return hls;
  }

  /** Entries of `hls` owned by `uid`, counted in a sample of its stream directories. */
  function ownedBy(hls: string, uid: number): number {
    let owned = 0;
    for (let d = 0; d < DIRS; d += 40) {
      const dir = join(hls, `m3u_proxy_hls_${d}`);
      for (const name of readdirSync(dir)) if (lstatSync(join(dir, name)).uid === uid) owned++;
    }
    return owned;
  }

  test('as PID 1: SIGTERM, SIGINT and SIGHUP each end the start within a second, with 128+N, no helper left and no config written', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'unshare') || !needsProgram(t, 'gcc')) return;
    const hls = await longTree(t);
    const users = [ensureUser('hlsb-www'), ensureUser('hlsb-other'), ensureUser('hlsb-runner')];
    for (const [i, [signal, number]] of Object.entries(SIGNALS).entries()) {
      // Another owner each time, so that every walk has the whole tree to re-own.
      const user = users[i % users.length] ?? users[0];
      assert.ok(user);
      const cwd = reachableDir(t);
      const conf = join(cwd, 'conf');
      mkdirSync(conf);
      const env = { HLS_TEMP_DIR: hls, WWWUSER: user.name, HLS_STARTUP_SWEEP: 'false', ...renderTo(conf) };
      const run = await startHls(t, ['prepare'], cwd, env, true);
      const helpers = await helpersRunning(run.node);
      await assertStoppedPromptly(run, signal, number, 'the storage step', helpers);
      assert.deepEqual(readdirSync(conf), [], 'no config, not even a temporary one');
      const sample = (DIRS / 40) * FILES;
      assert.ok(ownedBy(hls, user.uid) < sample, `${signal}: the walk was cut short, not finished`);
    }
  });

  test('outside a PID namespace: SIGTERM leaves no helper behind, and helpers whose parent is killed end by themselves', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'gcc')) return;
    const hls = await longTree(t);
    const cwd = reachableDir(t);
    const env = { HLS_TEMP_DIR: hls, HLS_STARTUP_SWEEP: 'false', ...renderTo(cwd) };

    const stopped = await startHls(t, ['prepare'], cwd, { ...env, WWWUSER: ensureUser('hlsb-www').name }, false);
    const helpers = await helpersRunning(stopped.node);
    await assertStoppedPromptly(stopped, 'SIGTERM', 15, 'the storage step', helpers);

    // SIGKILL cannot be caught: the helpers see their parent gone at their next pause.
    const killed = await startHls(t, ['prepare'], cwd, { ...env, WWWUSER: ensureUser('hlsb-other').name }, false);
    const orphans = await helpersRunning(killed.node);
    const killedAt = performance.now();
    process.kill(killed.node, 'SIGKILL');
    await killed.exited;
    await waitFor('the orphaned helpers to end', () => (stillRunning(orphans).length === 0 ? true : undefined), 1000, 5);
    t.diagnostic(`orphaned helpers ended ${(performance.now() - killedAt).toFixed(0)} ms after their parent was killed`);
    assert.ok(!existsSync(join(cwd, 'supervisord.conf')));
  });
});
