// Value parsers for the configuration table: each turns one variable's text into a value or rejects it.

import { posix } from 'node:path';
import { parseId, type UserDb } from './users.ts';

/** Thrown by a parser; `detail` says what was wrong when "expected ..." alone would not. */
export class Rejected extends Error {
  readonly detail: string | undefined;

  constructor(detail?: string) {
    super(detail ?? 'rejected');
    this.detail = detail;
  }
}

/** Booleans as pydantic reads them: true/false, 1/0, yes/no, on/off, any case. */
export function bool(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(t)) return true;
  if (['false', '0', 'no', 'off'].includes(t)) return false;
  throw new Rejected();
}

/** A decimal integer in [min, max], digits only (no sign, no spaces, no exponent). */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    if (!/^[0-9]+$/.test(text)) throw new Rejected();
    const n = Number(text);
    if (n < min || n > max) throw new Rejected();
    return n;
  };
}

/** One of a fixed set of words, matched in any case and passed on as written in `words`. */
export function oneOf<const W extends string>(words: readonly W[]): (text: string) => W {
  return (text) => {
    const found = words.find((w) => w.toLowerCase() === text.trim().toLowerCase());
    if (found === undefined) throw new Rejected();
    return found;
  };
}

/** Text without control characters or surrounding whitespace, such as a host name. */
export function word(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(text)) throw new Rejected();
  return text;
}

/** Any text; supervisord's own limits are checked when its config is rendered. */
export function anyText(text: string): string {
  return text;
}

/** A file path; relative paths are taken from the working directory. */
export function filePath(text: string): string {
  if (text.includes('\n')) throw new Rejected('a path cannot hold a newline');
  return text;
}

/**
 * A directory mode in octal (0755, 755, 2775); the owner needs rwx, or the proxy could not write.
 * Not setuid, which means nothing on a Linux directory; not sticky and writable by others, the mode
 * of a shared scratch directory such as /tmp, which the storage step then leaves to its owner.
 */
export function octalMode(text: string): number {
  if (!/^0?[0-7]{3,4}$/.test(text)) throw new Rejected();
  const mode = Number.parseInt(text, 8);
  if ((mode & 0o700) !== 0o700) throw new Rejected('the owner needs rwx (7 in the first digit of 755)');
  if ((mode & 0o4000) !== 0) throw new Rejected('the setuid bit (4000) means nothing on a directory');
  if ((mode & 0o1002) === 0o1002) {
    throw new Rejected('sticky and writable by others (1777) is the mode of a shared directory such as /tmp, whose contents the storage step does not re-own');
  }
  return mode;
}

/** Formats a mode the way it is written in the table: four octal digits. */
export function formatMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/**
 * Directories that hold the system: HLS_TEMP_DIR may be neither one of them nor a
 * direct child of one, since the storage step gives the directory to another user.
 */
export const SYSTEM_DIRS: readonly string[] = [
  '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/libx32', '/proc',
  '/root', '/run', '/sbin', '/sys', '/usr', '/var',
];

/** Shared scratch directories that lie in a system directory but are meant to be written by anyone. */
export const SHARED_SCRATCH_DIRS: readonly string[] = ['/dev/shm', '/var/tmp'];

/**
 * Why `path` (absolute and normalised) may not be HLS_TEMP_DIR, or undefined when it may.
 * Used on the path as written and again on the path its symlinks resolve to.
 */
export function systemPathProblem(path: string): string | undefined {
  if (path === '/') return 'it is the root directory';
  if (SHARED_SCRATCH_DIRS.includes(path)) return undefined;
  if (SYSTEM_DIRS.includes(path) || /^\/lib[^/]*$/.test(path)) return `${path} is a system directory`;
  const parent = posix.dirname(path);
  if (SYSTEM_DIRS.includes(parent) || /^\/lib[^/]*$/.test(parent)) return `it lies directly in the system directory ${parent}`;
  return undefined;
}

/** HLS_TEMP_DIR: absolute, no `..`, not a system directory; returned without `//`, `.` or a trailing `/`. */
export function hlsDirectory(text: string): string {
  if (!text.startsWith('/')) throw new Rejected('it is a relative path; an absolute path is needed');
  if (text.includes('\n')) throw new Rejected('a path cannot hold a newline');
  if (text.split('/').includes('..')) throw new Rejected('it has a ".." component');
  const path = posix.normalize(text).replace(/(.)\/$/, '$1');
  const problem = systemPathProblem(path);
  if (problem !== undefined) throw new Rejected(problem);
  return path;
}

/** A user or group, as given and as resolved. */
export interface Principal {
  /** The id chown and setuid take. */
  readonly id: number;
  /** The database name, when there is an entry. */
  readonly name: string | undefined;
}

/** WWWUSER: a user name that exists in the user database, or a numeric uid (no entry needed). */
export function user(db: UserDb): (text: string) => Principal {
  return (text) => {
    const id = parseId(text);
    if (id !== undefined) return { id, name: db.userById(id)?.name };
    const entry = db.userByName(text);
    if (entry === undefined) throw new Rejected(`there is no user named "${text}" in the user database (/etc/passwd)`);
    return { id: entry.uid, name: entry.name };
  };
}

/** WWWGROUP: a group name that exists in the group database, or a numeric gid. */
export function group(db: UserDb): (text: string) => Principal {
  return (text) => {
    const id = parseId(text);
    if (id !== undefined) return { id, name: db.groupById(id)?.name };
    const entry = db.groupByName(text);
    if (entry === undefined) throw new Rejected(`there is no group named "${text}" in the group database (/etc/group)`);
    return { id: entry.gid, name: entry.name };
  };
}

/** A user to run as, resolved as su-exec resolves it. */
export interface ExecUser {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups, set before the gid and uid. */
  readonly groups: readonly number[];
  /** HOME for the program: the user's home directory, or / without a database entry. */
  readonly home: string;
  /** As given, for messages. */
  readonly label: string;
}

/**
 * EXEC_USER and --user: USER[:GROUP], names or numeric ids, resolved as su-exec does. A user's
 * database entry gives its primary group, home and supplementary groups; a numeric uid without
 * one runs with gid 0 unless a GROUP is given (as Docker's --user does), HOME=/. A GROUP given
 * replaces the supplementary groups with itself. An empty text means: do not switch.
 */
export function execUser(db: UserDb): (text: string) => ExecUser | undefined {
  return (text) => {
    if (text === '') return undefined;
    const [userPart, groupPart] = text.split(':', 2) as [string, string | undefined];
    if (userPart === '') throw new Rejected('the user part is empty');
    const id = parseId(userPart);
    const entry = id === undefined ? db.userByName(userPart) : db.userById(id);
    if (id === undefined && entry === undefined) throw new Rejected(`there is no user named "${userPart}" in the user database (/etc/passwd)`);
    const uid = id ?? entry?.uid ?? 0;
    let gid = entry?.gid ?? 0;
    let groups: number[] = entry === undefined ? [gid] : [gid, ...db.groupsOf(entry.name).filter((g) => g !== gid)];
    if (groupPart !== undefined && groupPart !== '') {
      gid = group(db)(groupPart).id;
      groups = [gid];
    }
    return { uid, gid, groups, home: entry?.home ?? '/', label: text };
  };
}
