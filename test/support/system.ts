// Real system fixtures for end-to-end tests: Unix users made with useradd, tmpfs mounts of chosen sizes.

import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, type PathLike } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { defer } from './defer.ts';

function run(file: string, args: readonly string[]): string {
  const result = spawnSync(file, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** A real user, with its own group unless `options` say otherwise, created with useradd on first use; kept for later runs. */
export function ensureUser(name: string, options: readonly string[] = ['--user-group']): TestUser {
  const find = (): string | undefined => readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (find() === undefined) {
    // Another test file running at the same time may be adding the same user: its success is ours.
    const added = spawnSync('useradd', ['--system', ...options, '--no-create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
    if (added.status !== 0 && find() === undefined) throw new Error(`useradd ${name} failed (${added.status}): ${added.stderr}`);
  }
  const [, , uid, gid] = (find() ?? '').split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

/**
 * Mounts a tmpfs of `size` (such as "300m") with extra options on a new directory; unmounted after the test.
 * `source` is the name mount(8) and df show for it, which may hold spaces, as a CIFS share's does.
 */
export function mountTmpfs(t: TestContext, dir: string, size: string, extra: readonly string[] = [], source = 'tmpfs'): string {
  mkdirSync(dir, { recursive: true });
  run('mount', ['-t', 'tmpfs', '-o', [`size=${size}`, ...extra].join(','), source, dir]);
  defer(t, () => {
    spawnSync('umount', ['-l', dir]);
  });
  return dir;
}

/** Owner, group, mode and ctime of every entry under `root` (itself included), not following links. */
export function snapshot(root: string): Map<string, string> {
  const entries = new Map<string, string>();
  const visit = (path: string): void => {
    const st = lstatSync(path, { bigint: true });
    entries.set(path, `${st.uid}:${st.gid} ${(st.mode & 0o7777n).toString(8)} ${st.ctimeNs}`);
    if (st.isDirectory() && (path === root || lstatSync(path).dev === lstatSync(root).dev)) {
      for (const name of readdirSync(path)) visit(join(path, name));
    }
  };
  visit(root);
  return entries;
}

/** Owner of `path` as "uid:gid", not following a final link. */
export function ownerOf(path: PathLike): string {
  const st = lstatSync(path);
  return `${st.uid}:${st.gid}`;
}

/** A group created with groupadd on first use, with `members` added to it; returns its gid. */
export function ensureGroup(name: string, members: readonly string[] = []): number {
  const find = (): string | undefined => readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (find() === undefined) {
    const added = spawnSync('groupadd', ['--system', name], { encoding: 'utf8' });
    if (added.status !== 0 && find() === undefined) throw new Error(`groupadd ${name} failed (${added.status}): ${added.stderr}`);
  }
  for (const member of members) {
    if (!(find()?.split(':')[3] ?? '').split(',').includes(member)) run('usermod', ['--append', '--groups', name, member]);
  }
  return Number(find()?.split(':')[2]);
}
