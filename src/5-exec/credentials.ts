// Who the target runs as, and what the kernel lets that user do with a file: generic_permission(), in JavaScript.

import { readFileSync } from 'node:fs';
import type { ExecUser } from '../1-config/parse.ts';

/** The credentials the kernel judges an exec by (fsuid, fsgid, groups, capabilities). */
export interface Credentials {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
  /** CAP_DAC_OVERRIDE: passes any permission check, exec only on a file with some x bit. */
  readonly dacOverride: boolean;
  /** CAP_DAC_READ_SEARCH: may search any directory. */
  readonly dacReadSearch: boolean;
  /** The whole effective capability set, for the checks a user switch needs. */
  readonly capabilities: bigint;
}

const CAP_DAC_OVERRIDE = 1n;
const CAP_DAC_READ_SEARCH = 2n;
export const CAP_SETGID = 6n;
export const CAP_SETUID = 7n;

const has = (caps: bigint, cap: bigint): boolean => ((caps >> cap) & 1n) === 1n;

/**
 * This process's credentials from /proc/self/status (its fsuid, fsgid, groups and CapEff). Without
 * /proc, the effective ids stand in, and root is taken to hold every capability, as it does by default.
 */
export function parseStatus(text: string | undefined, fallback: { euid: number; egid: number }): Credentials {
  const field = (name: string): string[] | undefined => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(text ?? '')?.[1]?.trim().split(/\s+/).filter(Boolean);
  const uid = Number(field('Uid')?.[3] ?? fallback.euid);
  const gid = Number(field('Gid')?.[3] ?? fallback.egid);
  const capEff = field('CapEff')?.[0];
  const capabilities = capEff === undefined ? (uid === 0 ? (1n << 64n) - 1n : 0n) : BigInt(`0x${capEff}`);
  return credentials(uid, gid, (field('Groups') ?? []).map(Number), capabilities);
}

function credentials(uid: number, gid: number, groups: readonly number[], capabilities: bigint): Credentials {
  return {
    uid, gid, groups, capabilities,
    dacOverride: has(capabilities, CAP_DAC_OVERRIDE), dacReadSearch: has(capabilities, CAP_DAC_READ_SEARCH),
  };
}

/** This process's credentials, read now. */
export function currentCredentials(fallback: { euid: number; egid: number }): Credentials {
  let text: string | undefined;
  try {
    text = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // No /proc (a chroot, a scratch image): parseStatus falls back to the ids.
  }
  return parseStatus(text, fallback);
}

/**
 * The credentials after switching to `user` (setgroups, setgid, setuid): a uid other than 0 loses
 * every capability on setuid; staying uid 0 keeps them.
 */
export function targetCredentials(current: Credentials, user: ExecUser | undefined): Credentials {
  if (user === undefined) return current;
  return credentials(user.uid, user.gid, user.groups, user.uid === 0 ? current.capabilities : 0n);
}

/** What the permission check needs to know about a file: stat's mode, uid and gid. */
export interface Inode {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export const MAY_EXEC = 1;
export const MAY_READ = 4;

/**
 * Whether `cred` may exec (MAY_EXEC on a file, search on a directory) or read `inode`, as the
 * kernel's generic_permission() decides from the mode bits: the owner's bits for the owner, even
 * where the others' would allow more, else the group's for a member, else the others'; then the
 * capabilities. POSIX ACLs and security modules are not read here; the last check before the
 * exec asks the kernel itself.
 */
export function permits(inode: Inode, cred: Credentials, mask: number): boolean {
  let bits = inode.mode & 0o7;
  if (inode.uid === cred.uid) bits = (inode.mode >> 6) & 0o7;
  else if (inode.gid === cred.gid || cred.groups.includes(inode.gid)) bits = (inode.mode >> 3) & 0o7;
  if ((mask & ~bits) === 0) return true;
  // Reading and searching a directory are overridable, and so is reading a file.
  if ((inode.mode & 0o170000) === 0o040000) return cred.dacReadSearch || cred.dacOverride;
  if (mask === MAY_READ && cred.dacReadSearch) return true;
  // Exec is overridable only when at least one x bit is set.
  return cred.dacOverride && ((mask & MAY_EXEC) === 0 || (inode.mode & 0o111) !== 0);
}

/** Reads a /proc/self file, or undefined where there is none. */
export function procSelf(name: string): string | undefined {
  try {
    return readFileSync(`/proc/self/${name}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether `id` lies inside a uid_map or gid_map (lines "inside outside count"); no map means no user namespace. */
export function mapped(id: number, map: string | undefined): boolean {
  if (map === undefined) return true;
  return map.split('\n').some((line) => {
    const [inside, , count] = line.trim().split(/\s+/).map(Number);
    return inside !== undefined && count !== undefined && id >= inside && id < inside + count;
  });
}

/**
 * Why setgroups, setgid or setuid to `user` would fail, judged before any step: a missing
 * CAP_SETGID or CAP_SETUID (docker run --cap-drop), setgroups denied in this user namespace,
 * or an id the namespace does not map (EINVAL). Undefined when the switch will work.
 */
export function switchProblem(user: ExecUser, current: Credentials, read = procSelf): string | undefined {
  const missing = [[CAP_SETGID, 'CAP_SETGID'], [CAP_SETUID, 'CAP_SETUID']] as const;
  const lacking = missing.filter(([cap]) => !has(current.capabilities, cap)).map(([, name]) => name);
  if (lacking.length > 0) return `this process lacks ${lacking.join(' and ')}`;
  if (read('setgroups')?.trim() === 'deny') return 'setgroups is denied in this user namespace (/proc/self/setgroups)';
  if (!mapped(user.uid, read('uid_map'))) return `uid ${user.uid} is not mapped in this user namespace`;
  const unmapped = [user.gid, ...user.groups].find((gid) => !mapped(gid, read('gid_map')));
  if (unmapped !== undefined) return `gid ${unmapped} is not mapped in this user namespace`;
  return undefined;
}
