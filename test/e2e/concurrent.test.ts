// Two starts walking one tree at once (two replicas on one volume), while the proxy's user swaps names as fast as it can; the lock that keeps them apart.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BIN, NODE, PATH, cli, renderTo, tempDir } from '../support/cli.ts';
import { waitFor } from '../support/processes.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { compileC, reachableDir } from '../support/storage.ts';
import { ensureGroup, ensureUser, ownerOf, type TestUser } from '../support/system.ts';

/**
 * The attacker, run as WWWUSER: it waits until directory DIR is its own (a start re-owned it),
 * then puts in place of each name f_0 .. f_N-1 a fresh file of group GID, which needs re-owning,
 * and swaps it with a hard link to OUTSIDE, one atomic renameat2(RENAME_EXCHANGE) at a time.
 * Usage: swap DIR OUTSIDE GID N MILLISECONDS
 */
const SWAP_C = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static long since(struct timespec *s) {
  struct timespec n; clock_gettime(CLOCK_MONOTONIC, &n);
  return (n.tv_sec - s->tv_sec) * 1000 + (n.tv_nsec - s->tv_nsec) / 1000000;
}
int main(int argc, char **argv) {
  if (argc != 6) return 2;
  gid_t gid = (gid_t) atoi(argv[3]);
  int n = atoi(argv[4]);
  long ms = atol(argv[5]);
  struct timespec start; clock_gettime(CLOCK_MONOTONIC, &start);
  struct stat st;
  printf("ready\\n"); fflush(stdout);
  while (stat(argv[1], &st) != 0 || st.st_uid != getuid()) {
    if (since(&start) > ms) { printf("0\\n"); return 0; }
    usleep(200);
  }
  if (chdir(argv[1]) != 0) return 2;
  int *fds = calloc(n, sizeof(int));
  char f[32], l[32];
  for (int i = 0; i < n; i++) {
    snprintf(f, 32, "f_%d", i); snprintf(l, 32, "l_%d", i);
    unlink(f);
    fds[i] = open(f, O_CREAT | O_EXCL | O_RDONLY, 0644);
    if (fds[i] < 0 || fchown(fds[i], (uid_t) -1, gid) != 0 || link(argv[2], l) != 0) return 2;
  }
  long swaps = 0;
  while (since(&start) < ms) {
    for (int i = 0; i < n; i++) {
      snprintf(f, 32, "f_%d", i); snprintf(l, 32, "l_%d", i);
      if (syscall(SYS_renameat2, AT_FDCWD, f, AT_FDCWD, l, 2) == 0) swaps++;
      fchown(fds[i], (uid_t) -1, gid);
    }
  }
  printf("%ld\\n", swaps);
  return 0;
}
`;

test('a second start never gives a directory only root can write to WWWUSER while the first re-owns names in it', async (t) => {
  if (!needsRoot(t) || !needsProgram(t, 'gcc') || !needsProgram(t, 'strace') || !needsProgram(t, 'setpriv')) return;
  const www = ensureUser('hlsb-racer');
  const secretGid = ensureGroup('hlsb-secret', [www.name]);
  const base = reachableDir(t);
  const outside = join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'group secret');
  chownSync(join(outside, 'secret'), 0, secretGid);
  chmodSync(join(outside, 'secret'), 0o660);
  const hls = join(base, 'hls');
  // A directory only root can write, all root's: what a start re-owns by name, two calls an entry.
  const dir = join(hls, 'm3u_proxy_hls_root');
  mkdirSync(dir, { recursive: true });
  chownSync(hls, www.uid, www.gid);
  const files = 200;
  for (let i = 0; i < files; i++) closeSync(openSync(join(dir, `f_${i}`), 'w'));
  const program = compileC(tempDir(t), 'swap', SWAP_C);
  const before = ownerOf(join(outside, 'secret'));
  const env = (cwd: string): Record<string, string> => ({ PATH, HOME: cwd, HLS_TEMP_DIR: hls, HLS_STARTUP_SWEEP: 'false', WWWUSER: www.name, WWWGROUP: www.name, ...renderTo(cwd) });

  const attacker = spawn('setpriv', [`--reuid=${www.uid}`, `--regid=${www.gid}`, '--init-groups', '--', program, dir, join(outside, 'secret'), String(secretGid), String(files), '8000'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let said = '';
  attacker.stdout.setEncoding('utf8').on('data', (d: string) => (said += d));
  const ended = new Promise<void>((resolve) => attacker.on('close', () => {
    resolve();
  }));
  await waitFor('the attacker to be ready', () => (said.includes('ready') ? true : undefined));

  // The first start is slow in that directory (each lchown waits 10 ms first, as a busy disk would make it).
  const cwd = tempDir(t);
  const first = spawn('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'inject=lchown:delay_enter=10000', BIN, 'prepare'], { cwd, env: env(cwd), stdio: ['ignore', 'pipe', 'pipe'] });
  let firstOut = '';
  first.stdout.setEncoding('utf8').on('data', (d: string) => (firstOut += d));
  first.stderr.setEncoding('utf8').on('data', (d: string) => (firstOut += d));
  const firstDone = new Promise<number | null>((resolve) => first.on('close', resolve));
  // The second starts once the first is in there, and is done long before it.
  await waitFor('the first start to re-own an entry in the directory', () => (readdirSync(dir).some((name) => lstatSync(join(dir, name)).uid !== 0) ? true : undefined), 15_000, 5);
  const cwd2 = tempDir(t);
  const second = cli(['prepare'], { cwd: cwd2, env: env(cwd2) });
  assert.equal(second.code, 0, second.stderr);
  assert.equal(await firstDone, 0, firstOut);
  // Both are done: so is the attack.
  attacker.kill('SIGKILL');
  await ended;
  t.diagnostic(`second start: ${second.stdout.split('\n').filter((l) => /Checked/.test(l)).join('')}`);

  assert.equal(ownerOf(join(outside, 'secret')), before, 'the outside file is still root\'s');
  assert.match(second.stdout, /left alone: .*1 directory only root can write, left to another start walking this directory\n/);
  // The first start gave it to WWWUSER once it was done with it.
  assert.equal(ownerOf(dir), `${www.uid}:${www.gid}`);
});

/** WWWUSER hlsb-www, and HLS_TEMP_DIR holding m3u_proxy_hls_root, a directory only root can write, of 5 segments: all root's. */
function rootOnlyDir(t: TestContext): { www: TestUser; hls: string; dir: string } {
  const www = ensureUser('hlsb-www');
  const hls = join(reachableDir(t), 'hls');
  const dir = join(hls, 'm3u_proxy_hls_root');
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, `segment_${i}.ts`), '');
  return { www, hls, dir };
}

/** Runs `prepare` on `hls` for `www` under strace, with `options` before the program; `calls()` reads the calls that change owners. */
function tracedPrepare(t: TestContext, www: TestUser, hls: string, options: readonly string[] = []): { r: SpawnSyncReturns<string>; calls: () => string } {
  const cwd = tempDir(t);
  const log = join(cwd, 'strace.txt');
  const r = spawnSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=lchown,chown,fchown', ...options, BIN, 'prepare'],
    { cwd, encoding: 'utf8', env: { PATH, HOME: cwd, HLS_TEMP_DIR: hls, WWWUSER: www.name, WWWGROUP: www.name, ...renderTo(cwd) } });
  return { r, calls: () => readFileSync(log, 'utf8') };
}

test('a lock the proxy\'s user holds on HLS_TEMP_DIR stops nothing: every change goes through a verified handle, and directories only root can write stay so', async (t) => {
  if (!needsRoot(t) || !needsProgram(t, 'flock') || !needsProgram(t, 'strace') || !needsProgram(t, 'setpriv')) return;
  const { www, hls, dir } = rootOnlyDir(t);
  chownSync(hls, www.uid, www.gid);
  // It may open its own directory, and flock it for as long as it likes.
  const holder = spawn('setpriv', [`--reuid=${www.uid}`, `--regid=${www.gid}`, '--clear-groups', '--', 'flock', '-x', hls, 'sh', '-c', 'echo held; sleep 30'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let said = '';
  holder.stdout.setEncoding('utf8').on('data', (d: string) => (said += d));
  t.after(() => holder.kill('SIGKILL'));
  await waitFor('the lock to be held', () => (said.includes('held') ? true : undefined));
  const { r, calls } = tracedPrepare(t, www, hls);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /re-owned 5; left alone: 1 directory only root can write, left to another start walking this directory\n/);
  assert.equal(ownerOf(join(dir, 'segment_0.ts')), `${www.uid}:${www.gid}`);
  assert.equal(ownerOf(dir), '0:0');
  assert.doesNotMatch(calls(), /lchown\(/, 'no entry re-owned by name');
  assert.match(calls(), /chown\("\/proc\/self\/fd\/\d+", /);
});

test('without flock(1) no start can hold the lock: every change goes through a verified handle, and directories only root can write are re-owned', (t) => {
  if (!needsRoot(t) || !needsProgram(t, 'strace')) return;
  const { www, hls, dir } = rootOnlyDir(t);
  // Node alone on its PATH.
  const { r, calls } = tracedPrepare(t, www, hls, ['-E', `PATH=${dirname(NODE)}`]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /: re-owned 6\n/);
  assert.equal(ownerOf(dir), `${www.uid}:${www.gid}`);
  assert.doesNotMatch(calls(), /lchown\(/);
});

test('a PATH with an empty entry does not make the start run, as root, a flock that the proxy\'s user put in HLS_TEMP_DIR', (t) => {
  if (!needsRoot(t)) return;
  const www = ensureUser('hlsb-www');
  const hls = join(reachableDir(t), 'hls');
  // Empty and root's: the walk first asks for the lock as it leaves it, from HLS_TEMP_DIR.
  const dir = join(hls, 'm3u_proxy_hls_root');
  mkdirSync(dir, { recursive: true });
  chownSync(hls, www.uid, www.gid);
  // The proxy's user writes its own directory.
  const proof = join(tempDir(t), 'ran-as-root');
  const planted = join(hls, 'flock');
  writeFileSync(planted, `#!/bin/sh\necho ran > ${proof}\n`, { mode: 0o755 });
  chownSync(planted, www.uid, www.gid);
  const cwd = tempDir(t);
  // An image without flock(1), whose PATH ends with a colon: execvp looks in the working directory last.
  const r = cli(['prepare'], { cwd, env: { PATH: `${dirname(NODE)}:`, HLS_TEMP_DIR: hls, HLS_STARTUP_SWEEP: 'false', WWWUSER: www.name, WWWGROUP: www.name, ...renderTo(cwd) } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(existsSync(proof), false, 'the planted flock ran as root');
  assert.equal(ownerOf(dir), `${www.uid}:${www.gid}`);
});

/**
 * busybox's flock applet, as Alpine ships it, for `flock [-sxn] FD`: it exits 1 when -n finds the
 * lock taken, and 1 too, after a message, when flock(2) fails otherwise (bb_perror_nomsg_and_die).
 */
const BUSYBOX_FLOCK_C = `
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
int main(int argc, char **argv) {
  int mode = 0;
  for (int i = 1; i < argc - 1; i++) mode |= strchr(argv[i], 'n') ? LOCK_NB : 0, mode |= strchr(argv[i], 's') ? LOCK_SH : 0;
  if (!(mode & LOCK_SH)) mode |= LOCK_EX;
  if (flock(atoi(argv[argc - 1]), mode) != 0) {
    if (errno == EWOULDBLOCK) return 1;
    fprintf(stderr, "flock: %s\\n", strerror(errno));
    return 1;
  }
  return 0;
}
`;

test('with busybox\'s flock, a filesystem whose flock(2) fails (NFS and a read-only handle) is no lock held by another start: directories only root can write are re-owned', (t) => {
  if (!needsRoot(t) || !needsProgram(t, 'gcc') || !needsProgram(t, 'strace')) return;
  const { www, hls, dir } = rootOnlyDir(t);
  const bin = tempDir(t);
  compileC(bin, 'flock', BUSYBOX_FLOCK_C);
  chmodSync(bin, 0o755);
  // NFS emulates flock(2) with a byte-range lock, which refuses an exclusive one on a handle opened for reading.
  const { r, calls } = tracedPrepare(t, www, hls, ['-e', 'trace=lchown,chown,fchown,flock', '-e', 'inject=flock:error=EBADF', '-E', `PATH=${bin}:${PATH}`]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /left to another start/);
  assert.equal(ownerOf(dir), `${www.uid}:${www.gid}`);
  assert.doesNotMatch(calls(), /lchown\(/, 'no entry re-owned by name: no start holds the lock');
});

test('alone, a start holds the lock and re-owns by name in directories only root can write', (t) => {
  if (!needsRoot(t) || !needsProgram(t, 'strace') || !needsProgram(t, 'flock')) return;
  const { www, hls } = rootOnlyDir(t);
  const { r, calls } = tracedPrepare(t, www, hls);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(calls().match(/lchown\("segment_\d\.ts"/g)?.length, 5);
});
