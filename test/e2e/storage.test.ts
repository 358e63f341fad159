// The storage step end to end, as root, with real second users, real links, real mounts.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { OwnershipCounts } from '../../src/2-storage/ownership.ts';
import { BIN, PATH, cli, defer, renderTo, sh, tempDir, type CliResult } from '../support/cli.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { addVariant, compileC, mountExt4, reachableDir, streamTree, traced } from '../support/storage.ts';
import { ensureGroup, ensureUser, mountTmpfs, ownerOf, snapshot, type TestUser } from '../support/system.ts';

function prepare(t: TestContext, dir: string, env: Record<string, string>, args: string[] = []): CliResult {
  const cwd = tempDir(t);
  return cli(['prepare', ...args], { cwd, env: { HLS_TEMP_DIR: dir, ...renderTo(cwd), ...env } });
}

function assertStorageDone(r: CliResult): void {
  assert.equal(r.code, 0, r.stderr);
}

function owners(user: TestUser): { HLS_OWNER: string; env: Record<string, string> } {
  return { HLS_OWNER: `${user.uid}:${user.gid}`, env: { WWWUSER: user.name, WWWGROUP: user.name } };
}

/** Owner, group and mode of `path`, not following a link. */
function ownerGroupMode(path: string): string {
  const st = lstatSync(path);
  return `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
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

  test('a shared sticky directory keeps its owner and mode; only root\'s and WWWUSER\'s stream directories are re-owned, another user\'s is named and left', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const other = ensureUser('hlsb-other');
    const dir = join(reachableDir(t), 'shm');
    streamTree(dir, 2, 2);
    chmodSync(dir, 0o1777);
    writeFileSync(join(dir, 'someone-elses-file'), '');
    mkdirSync(join(dir, 'someone-elses-dir'));
    chownSync(join(dir, 'someone-elses-file'), other.uid, other.gid);
    // WWWUSER's own stream directory, with a segment root left in it.
    const own = join(dir, 'm3u_proxy_hls_own');
    mkdirSync(own);
    writeFileSync(join(own, 'segment.ts'), '');
    chownSync(own, user.uid, user.gid);
    // Another local user's, named like the proxy's, with its private files.
    const theirs = join(dir, 'm3u_proxy_hls_theirs');
    mkdirSync(theirs);
    writeFileSync(join(theirs, 'private.ts'), 'theirs', { mode: 0o600 });
    writeFileSync(join(theirs, 'roots.ts'), '');
    chownSync(theirs, other.uid, other.gid);
    chownSync(join(theirs, 'private.ts'), other.uid, other.gid);
    const theirsBefore = snapshot(theirs);
    const r = prepare(t, dir, owners(user).env);
    assertStorageDone(r);
    assert.equal(statSync(dir).mode & 0o7777, 0o1777);
    assert.equal(ownerOf(dir), '0:0');
    assert.equal(ownerOf(join(dir, 'someone-elses-file')), `${other.uid}:${other.gid}`);
    assert.equal(ownerOf(join(dir, 'someone-elses-dir')), '0:0');
    assert.equal(ownerOf(join(dir, 'm3u_proxy_hls_1', 'segment_1.ts')), owners(user).HLS_OWNER);
    assert.equal(ownerOf(join(own, 'segment.ts')), owners(user).HLS_OWNER);
    assert.deepEqual(snapshot(theirs), theirsBefore, 'another user\'s stream directory is not touched');
    assert.ok(!existsSync(join(dir, '.gitignore')), 'no .gitignore in a shared directory');
    assert.match(r.stdout, /is a shared sticky directory: it keeps its owner and mode; only the proxy's m3u_proxy_hls_\* directories in it, root's or hlsb-www's, are re-owned/);
    assert.match(r.stdout, /; left alone: 1 stream directory of other users\n/);
    assert.match(r.stdout, new RegExp(`Left alone, other users' stream directories in a shared directory: m3u_proxy_hls_theirs \\(uid ${other.uid} \\(hlsb-other\\)\\)\\n`));
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
        // Other tests add users at the same time, so /etc itself is watched, not everything in it.
        const etc = ownerGroupMode('/etc');
        const r = prepare(t, dir, { WWWUSER: ensureUser('hlsb-www').name });
        assert.equal(r.code, code, r.stderr);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line, no stack: ${r.stderr}`);
        assert.deepEqual(snapshot(base), before);
        assert.equal(ownerGroupMode('/etc'), etc);
        assert.ok(!existsSync('/etc/.gitignore'));
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
      const base = reachableDir(t);
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
      // The log says what is true: not the owner it wanted, but that it could not, and what the owner is.
      assert.match(r.stdout, new RegExp(`\\n {3}Owner hlsb-www:hlsb-www \\(${owner.uid}:${owner.gid}\\), mode 0755: not permitted to set the owner as uid ${runner.uid}; `
        + `it is hlsb-runner:hlsb-runner \\(${runner.uid}:${runner.gid}\\), mode 0755\\n`));
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
      const base = reachableDir(t);
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

/**
 * The attacker of the race test, run as the user that owns a directory in the tree: in that
 * directory it swaps each fresh file (given another group, so that it needs re-owning) with a
 * hard link to an outside file, and a directory with a symbolic link to an outside directory,
 * each swap one atomic renameat2(RENAME_EXCHANGE), as fast as it can.
 * Usage: flip DIR OUTSIDE_FILE OUTSIDE_DIR GID PAIRS MILLISECONDS
 */
const FLIP_C = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#define RENAME_EXCHANGE_FLAG (1 << 1)
static int exchange(const char *a, const char *b) { return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE_FLAG); }
static long elapsed(struct timespec *start) {
  struct timespec now; clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}
int main(int argc, char **argv) {
  if (argc != 7 || chdir(argv[1]) != 0) { perror("flip"); return 2; }
  gid_t gid = (gid_t) atoi(argv[4]);
  int pairs = atoi(argv[5]);
  long ms = atol(argv[6]);
  int fds[64]; char fresh[64][32], linked[64][32];
  for (int i = 0; i < pairs && i < 64; i++) {
    snprintf(fresh[i], 32, "fresh_%d.ts", i);
    snprintf(linked[i], 32, "link_%d.ts", i);
    fds[i] = open(fresh[i], O_CREAT | O_EXCL | O_RDONLY, 0644);
    if (fds[i] < 0 || fchown(fds[i], (uid_t) -1, gid) != 0) { perror(fresh[i]); return 2; }
    if (link(argv[2], linked[i]) != 0) { perror("link"); return 2; }
  }
  if (mkdir("dir", 0755) != 0 || symlink(argv[3], "dir_link") != 0) { perror("dir"); return 2; }
  close(open("dir/segment.ts", O_CREAT | O_WRONLY, 0644));
  printf("ready\\n");
  fflush(stdout);
  struct timespec start; clock_gettime(CLOCK_MONOTONIC, &start);
  long swaps = 0;
  while (elapsed(&start) < ms) {
    for (int i = 0; i < pairs; i++) {
      if (exchange(fresh[i], linked[i]) == 0) swaps++;
      // Re-owned through the handle? Then give it the other group again, so it always needs re-owning.
      fchown(fds[i], (uid_t) -1, gid);
    }
    if (exchange("dir", "dir_link") == 0) swaps++;
  }
  printf("%ld\\n", swaps);
  return 0;
}
`;

interface Attack {
  /** Resolves with the number of swaps it made. */
  readonly done: Promise<number>;
}

/** Starts the attacker as `user` in `dir` for `ms`, once it has set up its links. */
async function attack(program: string, user: TestUser, dir: string, outsideFile: string, outsideDir: string, gid: number, ms: number): Promise<Attack> {
  const child = spawn('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', program, dir, outsideFile, outsideDir, String(gid), '20', String(ms)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const done = new Promise<number>((resolve, reject) => {
    child.on('close', (code) => {
      if (code === 0) resolve(Number(out.split('\n')[1]));
      else reject(new Error(`the attacker exited ${String(code)}: ${out}`));
    });
  });
  while (!out.includes('ready\n')) {
    if (child.exitCode !== null) await done;
    await new Promise((r) => setTimeout(r, 10));
  }
  return { done };
}

describe('under attack: a user swaps names while the walk runs as root', () => {
  test('hard links and symbolic links flipped in as fast as they can be never let it change anything outside', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'gcc') || !needsProgram(t, 'setpriv')) return;
    // WWWUSER is the attacker here: it owns a directory in the tree. A user of its own, since it
    // joins a group that other tests' users must not be in.
    const www = ensureUser('hlsb-racer');
    // The outside file is one the attacker may link (protected_hardlinks lets a user link what it can read and write).
    const secretGid = ensureGroup('hlsb-secret', [www.name]);
    const base = reachableDir(t);
    const program = compileC(tempDir(t), 'flip', FLIP_C);
    const outside = join(base, 'outside');
    mkdirSync(join(outside, 'private'), { recursive: true });
    for (const name of ['secret', 'decoy']) {
      writeFileSync(join(outside, name), 'group secret');
      chownSync(join(outside, name), 0, secretGid);
      chmodSync(join(outside, name), 0o660);
    }
    writeFileSync(join(outside, 'private', 'file'), 'root only');

    // The harness is real: re-owning by name after an lstat, as the walk once did, loses the race.
    const control = join(base, 'control');
    mkdirSync(control);
    chownSync(control, www.uid, www.gid);
    const decoyAttack = await attack(program, www, control, join(outside, 'decoy'), join(outside, 'private'), secretGid, 3000);
    const until = Date.now() + 3000;
    while (Date.now() < until && ownerOf(join(outside, 'decoy')) === `0:${secretGid}`) {
      for (let i = 0; i < 20; i++) {
        const name = join(control, `fresh_${i}.ts`);
        const st = lstatSync(name, { throwIfNoEntry: false });
        if (st !== undefined && st.nlink === 1 && st.gid !== www.gid) lchownSync(name, www.uid, www.gid);
      }
    }
    await decoyAttack.done;
    assert.equal(ownerOf(join(outside, 'decoy')), `${www.uid}:${www.gid}`, 'the harness can win against re-owning by name');

    const hls = join(base, 'hls');
    streamTree(hls, 3, 5);
    const raced = join(hls, 'm3u_proxy_hls_race');
    mkdirSync(raced);
    chownSync(raced, www.uid, www.gid);
    const running = await attack(program, www, raced, join(outside, 'secret'), join(outside, 'private'), secretGid, 8000);
    // The attacker's own renames change the linked file's ctime; nothing else outside may change at all.
    const secretBefore = ownerGroupMode(join(outside, 'secret'));
    const privateBefore = snapshot(join(outside, 'private'));
    let runs = 0;
    const seen = { reowned: 0, changed: 0, hardlinks: 0 };
    const ends = Date.now() + 7000;
    while (Date.now() < ends) {
      const r = prepare(t, hls, owners(www).env, ['--json']);
      assert.equal(r.code, 0, r.stderr);
      const counts = (JSON.parse(r.stdout) as { steps: { storage: { result: { walk: { counts: OwnershipCounts } } } } }).steps.storage.result.walk.counts;
      seen.reowned += counts.reowned;
      seen.changed += counts.changed;
      seen.hardlinks += counts.hardlinks;
      runs++;
      assert.equal(ownerGroupMode(join(outside, 'secret')), secretBefore, `after run ${runs}`);
      assert.deepEqual(snapshot(join(outside, 'private')), privateBefore, `after run ${runs}`);
    }
    const swaps = await running.done;
    t.diagnostic(`${runs} runs against ${swaps} swaps: ${seen.reowned} entries re-owned, ${seen.changed} found changed under the walk, ${seen.hardlinks} seen hard-linked`);
    assert.ok(runs >= 3 && swaps > 1000, `${runs} runs, ${swaps} swaps`);
    // The fresh files were re-owned through their handles, run after run, while the links never were.
    assert.ok(seen.reowned >= runs, `${seen.reowned} re-owned in ${runs} runs`);
  });
});

describe('faults: the kernel refuses one entry, a directory vanishes, names are not UTF-8', () => {
  test('a directory that vanishes between examination and entry is counted and named; every other entry is re-owned', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'strace')) return;
    const user = ensureUser('hlsb-www');
    const dir = join(reachableDir(t), 'hls');
    streamTree(dir, 3, 5);
    addVariant(dir);
    // The open of variant fails as it would had another replica's collector removed it just then.
    const r = traced(t, dir, ['-P', 'variant', '-e', 'inject=openat:error=ENOENT'], ['prepare'], { HLS_STARTUP_SWEEP: 'false', ...owners(user).env });
    assertStorageDone(r);
    // 3 x (5 segments, an index, the directory), variant and .gitignore; variant/segment.ts is never reached.
    assert.match(r.stdout, /Checked 23 entries inside in [\d.]+ s: re-owned 21; 1 vanished while it ran\n/);
    assert.match(r.stdout, /Vanished while the walk ran: m3u_proxy_hls_1\/variant\n/);
    for (const [path] of snapshot(dir)) {
      if (!path.includes('variant')) assert.equal(ownerOf(path), owners(user).HLS_OWNER, path);
    }
    assert.equal(ownerOf(join(dir, 'm3u_proxy_hls_1', 'variant', 'segment.ts')), '0:0');

    chownSync(dir, 0, 0);
    for (const [path] of snapshot(dir)) chownSync(path, 0, 0);
    const json = traced(t, dir, ['-P', 'variant', '-e', 'inject=openat:error=ENOENT'], ['prepare', '--json'], { HLS_STARTUP_SWEEP: 'false', ...owners(user).env });
    assertStorageDone(json);
    const counts = (JSON.parse(json.stdout) as { steps: { storage: { result: { walk: { counts: OwnershipCounts } } } } }).steps.storage.result.walk.counts;
    // .gitignore was given back to root too.
    assert.deepEqual([counts.vanished, counts.vanishedPaths, counts.reowned], [1, ['m3u_proxy_hls_1/variant'], 22]);
  });

  test('EPERM on one re-own is counted and named with its path, and the walk goes on', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'strace')) return;
    const user = ensureUser('hlsb-www');
    const dir = join(reachableDir(t), 'hls');
    streamTree(dir, 3, 5);
    writeFileSync(join(dir, 'm3u_proxy_hls_1', 'refused.ts'), '');
    const r = traced(t, dir, ['-P', 'refused.ts', '-e', 'inject=lchown,fchownat,chown:error=EPERM'], ['prepare', '--json'], { HLS_STARTUP_SWEEP: 'false', ...owners(user).env });
    assertStorageDone(r);
    const counts = (JSON.parse(r.stdout) as { steps: { storage: { result: { walk: { counts: OwnershipCounts } } } } }).steps.storage.result.walk.counts;
    assert.deepEqual([counts.refused, counts.refusedPaths], [1, ['m3u_proxy_hls_1/refused.ts: operation not permitted (EPERM)']]);
    assert.match(r.stderr, /Not re-owned, the kernel refused: m3u_proxy_hls_1\/refused\.ts: operation not permitted \(EPERM\)\n/);
    for (const [path] of snapshot(dir)) {
      if (!path.endsWith('refused.ts')) assert.equal(ownerOf(path), owners(user).HLS_OWNER, path);
    }
  });

  test('an immutable file (chattr +i) is refused at every start, named, and never stops the walk', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'chattr') || !needsProgram(t, 'mkfs.ext4')) return;
    const user = ensureUser('hlsb-www');
    const other = ensureUser('hlsb-other');
    const dir = mountExt4(t, join(reachableDir(t), 'hls'), '32M');
    streamTree(dir, 3, 5);
    // Another user's directory: its entries go through verified handles, not by name.
    chownSync(join(dir, 'm3u_proxy_hls_1'), other.uid, other.gid);
    const stuck = join(dir, 'm3u_proxy_hls_1', 'stuck.ts');
    writeFileSync(stuck, '');
    sh(`chattr +i ${stuck}`);
    defer(t, () => {
      spawnSync('chattr', ['-i', stuck]);
    });
    for (let run = 1; run <= 2; run++) {
      const r = prepare(t, dir, owners(user).env);
      assertStorageDone(r);
      assert.match(r.stdout, /; left alone: 1 entry the kernel would not re-own\n/, `run ${run}`);
      assert.match(r.stderr, /Not re-owned, the kernel refused: m3u_proxy_hls_1\/stuck\.ts: operation not permitted \(EPERM\)\n/);
      assert.equal(ownerOf(join(dir, 'm3u_proxy_hls_2', 'segment_4.ts')), owners(user).HLS_OWNER);
      assert.equal(ownerOf(join(dir, 'm3u_proxy_hls_1', 'segment_4.ts')), owners(user).HLS_OWNER);
    }
    assert.equal(ownerOf(stuck), '0:0');
  });

  test('names that are not UTF-8 are re-owned exactly and shown escaped in the log and in --json', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const base = reachableDir(t);
    const dir = join(base, 'hls');
    const bytes = (...parts: (string | number[] | Buffer)[]): Buffer => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p as never))));
    const stream = bytes(dir, '/m3u_proxy_hls_', [0xff]);
    mkdirSync(stream, { recursive: true });
    writeFileSync(bytes(stream, '/segment_', [0xfe, 0x0a], '.ts'), '');
    writeFileSync(join(base, 'outside'), '');
    linkSync(join(base, 'outside'), bytes(stream, '/link_', [0xc3]));
    const r = prepare(t, dir, owners(user).env);
    assertStorageDone(r);
    // The stream directory and its segment; the hard link stays root's, the new .gitignore is already right.
    assert.match(r.stdout, /Checked 4 entries inside in [\d.]+ s: re-owned 2; left alone: 1 hard-linked file/);
    assert.ok(r.stderr.includes('Hard-linked files not re-owned: m3u_proxy_hls_\\xff/link_\\xc3\n'), r.stderr);
    assert.equal(ownerOf(bytes(stream, '/segment_', [0xfe, 0x0a], '.ts')), owners(user).HLS_OWNER);
    assert.equal(ownerOf(stream), owners(user).HLS_OWNER);
    const json = prepare(t, dir, owners(user).env, ['--json']);
    const counts = (JSON.parse(json.stdout) as { steps: { storage: { result: { walk: { counts: OwnershipCounts } } } } }).steps.storage.result.walk.counts;
    assert.deepEqual(counts.hardlinkPaths, ['m3u_proxy_hls_\\xff/link_\\xc3']);
  });
});

describe('reachable whatever the umask, and nothing half-written', () => {
  test('umask 077: the parents it creates are 0755, and WWWUSER can reach the directory', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'setpriv')) return;
    const user = ensureUser('hlsb-www');
    const base = reachableDir(t);
    const dir = join(base, 'storage', 'app', 'hls-segments');
    const cwd = tempDir(t);
    const r = spawnSync('sh', ['-c', 'umask 077 && exec "$0" "$@"', BIN, 'prepare'],
      { cwd, encoding: 'utf8', env: { PATH, HOME: cwd, HLS_TEMP_DIR: dir, ...renderTo(cwd), ...owners(user).env } });
    assert.equal(r.status, 0, r.stderr);
    for (const parent of [join(base, 'storage'), join(base, 'storage', 'app')]) assert.equal(ownerGroupMode(parent), '0:0 755', parent);
    assert.equal(ownerGroupMode(dir), `${owners(user).HLS_OWNER} 755`);
    assert.equal(ownerGroupMode(join(dir, '.gitignore')), `${owners(user).HLS_OWNER} 644`);
    // The proof: WWWUSER itself writes there.
    const wrote = spawnSync('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', 'touch', join(dir, 'segment.ts')], { encoding: 'utf8' });
    assert.equal(wrote.status, 0, wrote.stderr);
  });

  test('an existing parent WWWUSER cannot pass through: 73, naming it and its mode', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const base = reachableDir(t);
    const locked = join(base, 'locked');
    mkdirSync(locked, { mode: 0o700 });
    chmodSync(locked, 0o700);
    const dir = join(locked, 'hls');
    const r = prepare(t, dir, owners(user).env);
    assert.equal(r.code, 73, r.stderr);
    assert.equal(r.stderr, `hls-bootstrap: cannot prepare HLS_TEMP_DIR ${dir}: WWWUSER hlsb-www (uid ${user.uid}) cannot reach it: ${locked} is mode 0700, owner 0:0, without search permission for it\n`);
    assert.doesNotMatch(r.stdout, /HLS storage configured/);
    // A group WWWUSER belongs to opens it.
    chownSync(locked, 0, user.gid);
    chmodSync(locked, 0o710);
    assertStorageDone(prepare(t, dir, owners(user).env));
  });

  test('a full disk: .gitignore and the config are either whole or absent, and the old config stays', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const base = reachableDir(t);
    const full = mountTmpfs(t, join(base, 'full'), '256k', ['mode=0755']);
    const dir = join(full, 'hls');
    mkdirSync(dir);
    mkdirSync(join(full, 'conf'));
    const conf = join(full, 'conf', 'supervisord.conf');
    writeFileSync(conf, 'the old config\n');
    // Fill every block: empty files still fit (inodes are left), a byte does not.
    spawnSync('sh', ['-c', `cat /dev/zero > ${join(full, 'filler')}`]);
    const cwd = tempDir(t);
    const r = cli(['prepare'], { cwd, env: { HLS_TEMP_DIR: dir, ...owners(user).env, ...renderTo(cwd) } });
    assertStorageDone(r);
    assert.match(r.stderr, /could not write \.gitignore: no space left on device \(ENOSPC\); nothing was left, the next start writes it\n/);
    assert.ok(!existsSync(join(dir, '.gitignore')), 'no empty .gitignore left');

    const failed = cli(['prepare'], { cwd, env: { HLS_TEMP_DIR: dir, ...owners(user).env, ...renderTo(cwd), SUPERVISORD_CONF: conf } });
    assert.equal(failed.code, 73, failed.stderr);
    assert.match(failed.stderr, new RegExp(`cannot write the supervisord config \\(SUPERVISORD_CONF\\) ${conf}: no space left on device \\(ENOSPC\\)\\n`));
    assert.deepEqual(readdirSync(join(full, 'conf')), ['supervisord.conf'], 'no temporary file left');
    assert.equal(readFileSync(conf, 'utf8'), 'the old config\n');
  });

  test('a SUPERVISORD_CONF whose name takes 240 bytes is written: its temporary name fits in 255', (t) => {
    if (!needsRoot(t)) return;
    const cwd = tempDir(t);
    const conf = join(cwd, `${'c'.repeat(235)}.conf`);
    const r = cli(['prepare'], { cwd, env: { HLS_TEMP_DIR: join(cwd, 'hls'), ...renderTo(cwd), SUPERVISORD_CONF: conf } });
    assertStorageDone(r);
    assert.match(readFileSync(conf, 'utf8'), /\[program:m3u-proxy\]/);
    assert.deepEqual(readdirSync(cwd).filter((n) => n.endsWith('.tmp')), []);
  });
});
