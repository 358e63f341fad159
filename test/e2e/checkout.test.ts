// The suite does not depend on where the checkout is: its user tests pass from one under a 0700 directory, in a path with spaces.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { PATH, ROOT, tempDir } from '../support/cli.ts';
import { needsProgram, needsRoot } from '../support/require.ts';

/**
 * The end-to-end files with a test that runs something as another user on this machine (setpriv,
 * --user): those that reach the checkout's files from elsewhere. The engine's files are not among
 * them, though `docker run --user` is: the engine reads the build context as root, and their users
 * live in containers.
 */
function userTestFiles(): string[] {
  const e2e = join(ROOT, 'test', 'e2e');
  return readdirSync(e2e)
    .filter((name) => name.endsWith('.test.ts') && name !== basename(import.meta.filename))
    .filter((name) => {
      const text = readFileSync(join(e2e, name), 'utf8');
      return /setpriv|'--user'/.test(text) && !text.includes('engineSuite(');
    })
    .map((name) => join('test', 'e2e', name));
}

/** The checkout's files as git sees them (tracked and untracked, not ignored), copied to `to` with their modes. */
function copyCheckout(to: string): void {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(listed.status, 0, `git ls-files: ${listed.stderr}`);
  for (const path of listed.stdout.split('\0').filter(Boolean)) {
    const from = join(ROOT, path);
    // Deleted in the work tree but still in the index.
    if (!lstatSync(from, { throwIfNoEntry: false })?.isFile()) continue;
    mkdirSync(dirname(join(to, path)), { recursive: true });
    copyFileSync(from, join(to, path));
    chmodSync(join(to, path), lstatSync(from).mode & 0o777);
  }
}

test('the user tests pass from a checkout under a 0700 directory, in a path with spaces', { timeout: 15 * 60_000 }, (t) => {
  if (!needsRoot(t) || !needsProgram(t, 'git') || !needsProgram(t, 'setpriv') || !needsProgram(t, 'npm')) return;
  const home = tempDir(t);
  chmodSync(home, 0o700);
  const checkout = join(home, 'a home only root enters', 'hls bootstrap');
  copyCheckout(checkout);
  // The checkout's own node_modules, as after `npm ci`; only root ever reads it.
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
  const env = { PATH, HOME: home, CI: 'true' };
  const build = spawnSync('npm', ['run', 'build'], { cwd: checkout, env, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);

  const files = userTestFiles();
  assert.ok(files.length > 0, 'some end-to-end test runs as another user');
  // CI=true: a test that would skip fails instead, so that every user test really ran.
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...files], { cwd: checkout, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const lines = run.stdout.split('\n');
  const summary = lines.filter((line) => /^# (tests|pass|fail|skipped) /.test(line));
  // Each failure with the lines that explain it, rather than the whole report.
  const failures = lines.flatMap((line, i) => (/^\s*not ok /.test(line) ? lines.slice(i, i + 30) : []));
  assert.equal(run.status, 0, `${files.join(' ')} from ${checkout}:\n${failures.join('\n')}\n${summary.join('\n')}\n${run.stderr.slice(-2000)}`);
  assert.ok(summary.includes('# fail 0') && !summary.includes('# pass 0'), summary.join('\n'));
});
