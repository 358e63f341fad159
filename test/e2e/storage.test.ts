// The storage step end to end, as root, with real second users, real links, real mounts.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, linkSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { BIN, PATH, cli, renderTo, tempDir, type CliResult } from '../support/cli.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { ensureUser, mountTmpfs, ownerOf, snapshot, type TestUser } from '../support/system.ts';
import { reachableDir } from '../support/storage.ts';

function prepare(t: TestContext, dir: string, env: Record<string, string>, args: string[] = []): CliResult {
  const cwd = tempDir(t);
  return cli(['prepare', ...args], { cwd, env: { HLS_TEMP_DIR: dir, ...renderTo(cwd), ...env } });
}

function assertStorageDone(r: CliResult): void {
  assert.equal(r.code, 0, r.stderr);
}

/** A tree like a crashed proxy leaves: stream directories of segments, all owned by root. */
function streamTree(root: string, dirs: number, segments: number): void {
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `m3u_proxy_hls_${d}`);
    mkdirSync(dir, { recursive: true });
    for (let s = 0; s < segments; s++) writeFileSync(join(dir, `segment_${s}.ts`), '');
    writeFileSync(join(dir, 'index.m3u8'), '#EXTM3U\n');
  }
}

function owners(user: TestUser): { HLS_OWNER: string; env: Record<string, string> } {
  return { HLS_OWNER: `${user.uid}:${user.gid}`, env: { WWWUSER: user.name, WWWGROUP: user.name } };
}

describe('storage step', () => {
  test('creates the directory and its parents, owned by WWWUSER:WWWGROUP, mode 0755, with a .gitignore', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const dir = join(reachableDir(t), 'storage', 'app', 'hls-segments');
    const r = prepare(t, dir, owners(user).env);
    assertStorageDone(r);
    assert.match(r.stdout, /^🎬 Configuring HLS segment storage\.\.\.\n {3}HLS_TEMP_DIR: .*\n {3}HLS_GC_ENABLED: true\n {3}HLS_GC_INTERVAL: 600s\n {3}HLS_GC_AGE_THRESHOLD: 7200s\n/);
    assert.match(r.stdout, new RegExp(` {3}Creating HLS storage directory\\.\\.\\.\\n {3}✅ Created: ${dir}\\n`));
    const st = statSync(dir);
    assert.equal(`${st.uid}:${st.gid}`, owners(user).HLS_OWNER);
    assert.equal(st.mode & 0o7777, 0o755);
    assert.equal(readFileSync(join(dir, '.gitignore'), 'utf8'), '*\n!.gitignore\n');
    assert.equal(ownerOf(join(dir, '.gitignore')), owners(user).HLS_OWNER);
    // The parents it created stay root's, as with mkdir -p.
    assert.equal(ownerOf(join(dir, '..')), '0:0');
  });

  test('fixes wrong owners and mode in an existing tree, and a second run changes nothing', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const dir = join(reachableDir(t), 'hls');
    streamTree(dir, 5, 20);
    mkdirSync(join(dir, 'm3u_proxy_hls_0', 'nested', 'deeper'), { recursive: true });
    writeFileSync(join(dir, 'm3u_proxy_hls_0', 'nested', 'deeper', 'x.ts'), '');
    chmodSync(dir, 0o700);
    const first = prepare(t, dir, { ...owners(user).env, HLS_DIR_MODE: '0750' });
    assertStorageDone(first);
    assert.match(first.stdout, new RegExp(` {3}✅ Directory exists: ${dir}\\n`));
    assert.match(first.stdout, /Owner hlsb-www:hlsb-www \(\d+:\d+\), mode 0750: owner set, mode set/);
    // 5 x (20 segments + index + directory), nested/deeper/x.ts, and the .gitignore it wrote itself.
    assert.match(first.stdout, /Checked 114 entries inside in [\d.]+ s.*: re-owned 113\n/);
    for (const [path] of snapshot(dir)) assert.equal(ownerOf(path), owners(user).HLS_OWNER, path);
    assert.equal(statSync(dir).mode & 0o7777, 0o750);

    const before = snapshot(dir);
    const second = prepare(t, dir, { ...owners(user).env, HLS_DIR_MODE: '0750' });
    assertStorageDone(second);
    assert.match(second.stdout, /mode 0750: already right/);
    assert.match(second.stdout, /Checked 114 entries inside in [\d.]+ s.*: re-owned 0\n/);
    assert.deepEqual(snapshot(dir), before, 'ctimes, owners and modes are unchanged');
  });

  test('a second run makes no chown or chmod system call at all', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'strace')) return;
    const user = ensureUser('hlsb-www');
    const dir = join(reachableDir(t), 'hls');
    streamTree(dir, 3, 10);
    assertStorageDone(prepare(t, dir, owners(user).env));
    const log = join(tempDir(t), 'strace.txt');
    const traced = spawnSync('strace', ['-f', '-qq', '-e', 'trace=/chown|chmod', '-o', log, BIN, 'prepare'],
      { encoding: 'utf8', env: { PATH, HLS_TEMP_DIR: dir, ...renderTo(tempDir(t)), ...owners(user).env } });
    assert.equal(traced.status, 0, traced.stderr);
    const lines = readFileSync(log, 'utf8').split('\n').filter((l) => /chown|chmod/.test(l));
    assert.deepEqual(lines, []);
  });

  test('links and mounts inside never let it change anything outside', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const base = reachableDir(t);
    const outside = join(base, 'outside');
    mkdirSync(join(outside, 'dir'), { recursive: true });
    writeFileSync(join(outside, 'secret'), 'root only');
    writeFileSync(join(outside, 'shadow'), 'root only');
    writeFileSync(join(outside, 'dir', 'file'), '');
    const dir = join(base, 'hls');
    streamTree(dir, 2, 3);
    symlinkSync(join(outside, 'secret'), join(dir, 'm3u_proxy_hls_0', 'link-to-file'));
    symlinkSync(join(outside, 'dir'), join(dir, 'm3u_proxy_hls_0', 'link-to-dir'));
    symlinkSync(outside, join(dir, 'm3u_proxy_hls_link'));
    linkSync(join(outside, 'shadow'), join(dir, 'm3u_proxy_hls_1', 'hardlink'));
    const mount = mountTmpfs(t, join(dir, 'm3u_proxy_hls_1', 'mnt'), '1m');
    writeFileSync(join(mount, 'on-another-fs'), '');
    const outsideBefore = snapshot(outside);
    const mountBefore = snapshot(mount);

    const r = prepare(t, dir, owners(user).env);
    assertStorageDone(r);
    assert.deepEqual(snapshot(outside), outsideBefore, 'nothing outside changed');
    assert.deepEqual(snapshot(mount), mountBefore, 'nothing on the nested mount changed');
    assert.equal(ownerOf(join(dir, 'm3u_proxy_hls_0', 'link-to-file')), '0:0', 'the link itself is left alone');
    assert.equal(ownerOf(join(dir, 'm3u_proxy_hls_1', 'segment_0.ts')), owners(user).HLS_OWNER);
    assert.match(r.stdout, /left alone: 3 symbolic links, 1 hard-linked file \(a link may lead outside\), 1 mount point of other filesystems/);
    assert.match(r.stderr, /Hard-linked files not re-owned: m3u_proxy_hls_1\/hardlink/);
  });

  test('a shared sticky directory keeps its owner and mode; only the proxy\'s stream directories are re-owned', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const other = ensureUser('hlsb-other');
    const dir = join(reachableDir(t), 'shm');
    streamTree(dir, 2, 2);
    chmodSync(dir, 0o1777);
    writeFileSync(join(dir, 'someone-elses-file'), '');
    mkdirSync(join(dir, 'someone-elses-dir'));
    chownSync(join(dir, 'someone-elses-file'), other.uid, other.gid);
    const r = prepare(t, dir, owners(user).env);
    assertStorageDone(r);
    assert.equal(statSync(dir).mode & 0o7777, 0o1777);
    assert.equal(ownerOf(dir), '0:0');
    assert.equal(ownerOf(join(dir, 'someone-elses-file')), `${other.uid}:${other.gid}`);
    assert.equal(ownerOf(join(dir, 'someone-elses-dir')), '0:0');
    assert.equal(ownerOf(join(dir, 'm3u_proxy_hls_1', 'segment_1.ts')), owners(user).HLS_OWNER);
    assert.ok(!existsSync(join(dir, '.gitignore')), 'no .gitignore in a shared directory');
    assert.match(r.stdout, /is a shared sticky directory: it keeps its owner and mode; only the proxy's m3u_proxy_hls_\* directories in it, root's or hlsb-www's, are re-owned/);
  });

  describe('refused before anything is touched', () => {
    const refused: [string, (base: string) => string, number, RegExp][] = [
      ['a relative path', () => 'relative/hls', 78, /HLS_TEMP_DIR="relative\/hls" is not valid: it is a relative path/],
      ['a path with ..', (base) => `${base}/a/../hls`, 78, /has a "\.\." component/],
      ['the root directory', () => '/', 78, /it is the root directory/],
      ['a system directory', () => '/etc', 78, /\/etc is a system directory/],
      ['a directory in a system directory', () => '/usr/hls-test', 78, /lies directly in the system directory \/usr/],
      ['a symlink to a system directory', (base) => { symlinkSync('/etc', join(base, 'etc-link')); return join(base, 'etc-link'); }, 78,
        /through symbolic links it is \/etc, and \/etc is a system directory/],
      ['a path under a symlink to a system directory', (base) => { symlinkSync('/usr', join(base, 'usr-link')); return join(base, 'usr-link', 'hls'); }, 78,
        /through symbolic links it is \/usr\/hls, and it lies directly in the system directory \/usr/],
      ['a path blocked by a regular file', (base) => { writeFileSync(join(base, 'file'), ''); return join(base, 'file', 'hls'); }, 73,
        /cannot prepare HLS_TEMP_DIR .*\/file\/hls: .*\/file exists and is not a directory/],
      ['a regular file', (base) => { writeFileSync(join(base, 'file'), ''); return join(base, 'file'); }, 73, /exists and is not a directory/],
    ];
    for (const [name, make, code, message] of refused) {
      test(name, (t) => {
        if (!needsRoot(t)) return;
        const base = tempDir(t);
        const dir = make(base);
        const before = snapshot(base);
        const etc = snapshot('/etc').size;
        const r = prepare(t, dir, { WWWUSER: ensureUser('hlsb-www').name });
        assert.equal(r.code, code, r.stderr);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line, no stack: ${r.stderr}`);
        assert.deepEqual(snapshot(base), before);
        assert.equal(snapshot('/etc').size, etc);
        assert.ok(!existsSync('/usr/hls-test'));
      });
    }
  });

  test('a read-only filesystem gives 73 and one line', (t) => {
    if (!needsRoot(t)) return;
    const ro = mountTmpfs(t, join(tempDir(t), 'ro'), '1m', ['ro']);
    for (const dir of [join(ro, 'hls'), ro]) {
      const r = prepare(t, dir, { WWWUSER: ensureUser('hlsb-www').name });
      assert.equal(r.code, 73, r.stderr);
      assert.match(r.stderr, /^hls-bootstrap: cannot prepare HLS_TEMP_DIR .*: read-only file system \(EROFS\)\n$/);
    }
  });

  test('a full disk gives 73 and one line', (t) => {
    if (!needsRoot(t)) return;
    const full = mountTmpfs(t, join(tempDir(t), 'full'), '1m', ['nr_inodes=4']);
    for (let i = 0; ; i++) {
      try {
        writeFileSync(join(full, `f${i}`), '');
      } catch {
        break;
      }
    }
    const r = prepare(t, join(full, 'hls'), { WWWUSER: ensureUser('hlsb-www').name });
    assert.equal(r.code, 73, r.stderr);
    assert.match(r.stderr, /^hls-bootstrap: cannot prepare HLS_TEMP_DIR .*: cannot create .*: no space left on device \(ENOSPC\)\n$/);
  });

  describe('not root', () => {
    test('chown not permitted on a directory the user can write: a warning, and the start goes on', (t) => {
      if (!needsRoot(t) || !needsProgram(t, 'setpriv')) return;
      const runner = ensureUser('hlsb-runner');
      const owner = ensureUser('hlsb-www');
      const base = tempDir(t);
      chmodSync(base, 0o755);
      const dir = join(base, 'hls');
      mkdirSync(dir);
      chownSync(dir, runner.uid, runner.gid);
      const conf = join(base, 'conf');
      mkdirSync(conf);
      chownSync(conf, runner.uid, runner.gid);
      const r = cli(['prepare'], { cwd: base, env: { HLS_TEMP_DIR: dir, WWWUSER: owner.name, ...renderTo(conf) }, setpriv: [`--reuid=${runner.uid}`, `--regid=${runner.gid}`, '--clear-groups'] });
      assertStorageDone(r);
      assert.match(r.stderr, new RegExp(`not permitted to give it to hlsb-www:hlsb-www as uid ${runner.uid}; it is writable by uid ${runner.uid}, so the start goes on`));
      assert.equal(ownerOf(dir), `${runner.uid}:${runner.gid}`);
    });

    test('a directory the user cannot enter is counted and left, and the start goes on', (t) => {
      if (!needsRoot(t) || !needsProgram(t, 'setpriv')) return;
      const runner = ensureUser('hlsb-runner');
      const base = tempDir(t);
      chmodSync(base, 0o777);
      const dir = join(base, 'hls');
      mkdirSync(join(dir, 'm3u_proxy_hls_closed'), { recursive: true });
      mkdirSync(join(dir, 'm3u_proxy_hls_open'));
      for (const path of [dir, join(dir, 'm3u_proxy_hls_closed'), join(dir, 'm3u_proxy_hls_open')]) chownSync(path, runner.uid, runner.gid);
      chmodSync(join(dir, 'm3u_proxy_hls_closed'), 0o000);
      const r = cli(['prepare'], { cwd: base, env: { HLS_TEMP_DIR: dir, WWWUSER: runner.name, ...renderTo(base) }, setpriv: [`--reuid=${runner.uid}`, `--regid=${runner.gid}`, '--clear-groups'] });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Checked 3 entries inside .*: re-owned 0; left alone: 1 unreadable directory\n/);
    });

    test('chown not permitted on a directory the user cannot write: 73 with the reason', (t) => {
      if (!needsRoot(t) || !needsProgram(t, 'setpriv')) return;
      const runner = ensureUser('hlsb-runner');
      const base = tempDir(t);
      chmodSync(base, 0o755);
      const dir = join(base, 'hls');
      mkdirSync(dir, 0o755);
      const r = cli(['prepare'], { cwd: base, env: { HLS_TEMP_DIR: dir, WWWUSER: runner.name, ...renderTo(base) }, setpriv: [`--reuid=${runner.uid}`, `--regid=${runner.gid}`, '--clear-groups'] });
      assert.equal(r.code, 73, r.stderr);
      assert.match(r.stderr, new RegExp(`^hls-bootstrap: cannot prepare HLS_TEMP_DIR ${dir}: not permitted to give it to hlsb-runner:hlsb-runner as uid ${runner.uid}, and uid ${runner.uid} cannot write to it\\n$`));
    });
  });

  test('--dry-run prints the plan and changes nothing', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const base = tempDir(t);
    const missing = join(base, 'new', 'hls');
    const fresh = prepare(t, missing, owners(user).env, ['--dry-run']);
    assertStorageDone(fresh);
    assert.match(fresh.stdout, new RegExp(`\\[dry run\\] would create ${join(base, 'new')}, ${missing}\\n`));
    assert.match(fresh.stdout, /\[dry run\] would give .* to hlsb-www:hlsb-www/);
    assert.match(fresh.stdout, /\[dry run\] would set the mode of .* to 0755/);
    assert.match(fresh.stdout, /\[dry run\] would write .*\/\.gitignore/);
    assert.ok(!existsSync(join(base, 'new')));

    const dir = join(base, 'tree');
    streamTree(dir, 2, 5);
    chmodSync(dir, 0o700);
    const before = snapshot(dir);
    const r = prepare(t, dir, owners(user).env, ['--dry-run']);
    assertStorageDone(r);
    assert.match(r.stdout, /\[dry run\] would give .* to hlsb-www:hlsb-www \(\d+:\d+\) \(now 0:0\)/);
    assert.match(r.stdout, /\[dry run\] would set the mode of .* to 0755 \(now 0700\)/);
    assert.match(r.stdout, /\[dry run\] Checked 14 entries inside in .*: would re-own 14\n/);
    assert.deepEqual(snapshot(dir), before);
  });

  test('--json describes what the step found and did', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const dir = join(reachableDir(t), 'hls');
    streamTree(dir, 1, 3);
    const r = prepare(t, dir, owners(user).env, ['--json']);
    assertStorageDone(r);
    const doc = JSON.parse(r.stdout) as { steps: { storage: { plan: { path: string; walk: string }; result: { chowned: boolean; walk: { counts: { reowned: number } } } } } };
    assert.equal(doc.steps.storage.plan.path, dir);
    assert.equal(doc.steps.storage.plan.walk, 'tree');
    assert.equal(doc.steps.storage.result.chowned, true);
    assert.equal(doc.steps.storage.result.walk.counts.reowned, 5);
  });

  test('M3U_PROXY_ENABLED=false skips the step', (t) => {
    const dir = join(reachableDir(t), 'hls');
    const r = prepare(t, dir, { M3U_PROXY_ENABLED: 'false' });
    assertStorageDone(r);
    assert.match(r.stdout, /HLS storage skipped: M3U_PROXY_ENABLED=false/);
    assert.doesNotMatch(r.stdout, /Configuring HLS segment storage/);
    assert.ok(!existsSync(dir));
  });
});
