// The system's user and group databases (/etc/passwd, /etc/group), read without libc.

import { readFileSync } from 'node:fs';

export interface UserEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

/** What the configuration and exec steps need to know about users and groups. */
export interface UserDb {
  userByName(name: string): UserEntry | undefined;
  userById(uid: number): UserEntry | undefined;
  groupByName(name: string): GroupEntry | undefined;
  groupById(gid: number): GroupEntry | undefined;
  /** Ids of the groups that list `user` as a member (its supplementary groups). */
  groupsOf(user: string): number[];
}

const ID = /^(0|[1-9][0-9]{0,9})$/;

/** A numeric id as written in a variable or a database line, or undefined. */
export function parseId(text: string): number | undefined {
  if (!ID.test(text)) return undefined;
  const id = Number(text);
  // 2^32-1 is (uid_t)-1, which chown reads as "leave unchanged".
  return id < 0xffff_ffff ? id : undefined;
}

/** Parses passwd(5) text. Malformed lines are skipped, as getpwent does. */
export function parsePasswd(text: string): UserEntry[] {
  const users: UserEntry[] = [];
  for (const line of text.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':');
    const u = parseId(uid ?? '');
    const g = parseId(gid ?? '');
    if (name && u !== undefined && g !== undefined) users.push({ name, uid: u, gid: g, home: home ?? '/' });
  }
  return users;
}

/** Parses group(5) text. Malformed lines are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const groups: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const [name, , gid, members] = line.split(':');
    const g = parseId(gid ?? '');
    if (name && g !== undefined) groups.push({ name, gid: g, members: members ? members.split(',').filter(Boolean) : [] });
  }
  return groups;
}

/** A UserDb over parsed entries; the first entry wins, as in getpwnam. */
export function userDb(users: readonly UserEntry[], groups: readonly GroupEntry[]): UserDb {
  const first = <T>(list: readonly T[], test: (item: T) => boolean): T | undefined => list.find(test);
  return {
    userByName: (name) => first(users, (u) => u.name === name),
    userById: (uid) => first(users, (u) => u.uid === uid),
    groupByName: (name) => first(groups, (g) => g.name === name),
    groupById: (gid) => first(groups, (g) => g.gid === gid),
    groupsOf: (user) => groups.filter((g) => g.members.includes(user)).map((g) => g.gid),
  };
}

/** The databases of this system, read once on first use. A missing file is an empty database. */
export function systemUserDb(files = { passwd: '/etc/passwd', group: '/etc/group' }): UserDb {
  let db: UserDb | undefined;
  const load = (): UserDb => {
    db ??= userDb(parsePasswd(readOptional(files.passwd)), parseGroup(readOptional(files.group)));
    return db;
  };
  return {
    userByName: (name) => load().userByName(name),
    userById: (uid) => load().userById(uid),
    groupByName: (name) => load().groupByName(name),
    groupById: (gid) => load().groupById(gid),
    groupsOf: (user) => load().groupsOf(user),
  };
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // A scratch or distroless image may have no databases: numeric ids still work.
    return '';
  }
}
