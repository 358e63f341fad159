// Finds the directory to prepare by handles, one component of its path at a time from /, following
// a symbolic link only where no user but root (or this process's own) could have put it.
//
// A link in a directory the proxy's user may write would let that user point HLS_TEMP_DIR
// anywhere (at /usr/local/bin, say), and the step would give that directory and everything in it
// to WWWUSER. Resolving by name (realpath, then open) would also leave a moment in which a link
// could be swapped in. So each component is opened O_PATH | O_NOFOLLOW in the handle of the one
// before (through /proc/self/fd/N), and a link is read only when its directory is safe, as
// systemd's chase() does with CHASE_SAFE.

import { closeSync, constants, fstatSync, openSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { formatMode } from '../1-config/parse.ts';
import { errnoCode } from '../errors.ts';
import { O_PATH, viaHandle } from './handles.ts';

const { O_NOFOLLOW, S_IFMT, S_IFDIR, S_IFLNK } = constants;

/** Linux follows at most 40 links in one lookup; so does this. */
const MAX_LINKS = 40;

/** A link on the way that someone other than root (or this process's user) could have planted; `dir` is the directory that holds it. */
export class UnsafeLink extends Error {
  readonly link: string;
  readonly target: string;

  constructor(link: string, target: string, dir: Stats) {
    super(`${link} is a symbolic link (to ${target}) in ${posix.dirname(link)}, which users other than root may write `
      + `(owner ${dir.uid}:${dir.gid}, mode ${formatMode(dir.mode & 0o7777)}): whoever can write there could point it anywhere, so it is not followed`);
    this.link = link;
    this.target = target;
  }
}

/** A component that exists and is not a directory (or a link to one). */
export class NotADirectory extends Error {
  readonly path: string;

  constructor(path: string) {
    super(`${path} exists and is not a directory`);
    this.path = path;
  }
}

/** Where a path leads: the deepest directory of it that exists, held by an O_PATH handle, and what is missing below it. */
export interface Chased {
  readonly fd: number;
  readonly stat: Stats;
  /** Its real path: every link resolved. */
  readonly real: string;
  /** The names still to create below it, outermost first; empty when the whole path exists. */
  readonly missing: readonly string[];
}

/**
 * Whether a link in directory `dir` is one that only root or `euid` could have put there: the
 * directory is theirs and no group or other may write it, or it is sticky (only a name's owner may
 * replace it) and theirs, and so is the link.
 */
export function trustedLink(dir: Pick<Stats, 'uid' | 'mode'>, link: Pick<Stats, 'uid'>, euid: number): boolean {
  const trusted = (uid: number): boolean => uid === 0 || uid === euid;
  if (!trusted(dir.uid)) return false;
  if ((dir.mode & 0o022) === 0) return true;
  return (dir.mode & 0o1000) !== 0 && trusted(link.uid);
}

function join(names: readonly string[]): string {
  return `/${names.join('/')}`;
}

/**
 * Follows absolute, normalised `path` from / by handles. Throws UnsafeLink, NotADirectory, or the
 * system error of a component that cannot be looked up (ENOENT only for a `..` below a missing one).
 */
export function chase(path: string, euid: number): Chased {
  const todo = path.split('/').filter(Boolean);
  const stack: { name: string; fd: number }[] = [];
  let top = openSync('/', O_PATH | constants.O_DIRECTORY);
  let topStat = fstatSync(top);
  let links = 0;
  const close = (): void => {
    for (const frame of stack) closeSync(frame.fd);
    closeSync(top);
  };
  try {
    for (let name = todo.shift(); name !== undefined; name = todo.shift()) {
      if (name === '.') continue;
      if (name === '..') {
        const up = stack.pop();
        if (up !== undefined) {
          closeSync(top);
          top = up.fd;
          topStat = fstatSync(top);
        }
        continue;
      }
      const here = [...stack.map((f) => f.name), name];
      let fd: number;
      try {
        fd = openSync(`${viaHandle(top)}/${name}`, O_PATH | O_NOFOLLOW);
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT' || todo.includes('..')) throw error;
        const real = join(stack.map((f) => f.name));
        const result: Chased = { fd: top, stat: topStat, real, missing: [name, ...todo.filter((n) => n !== '.')] };
        for (const frame of stack) closeSync(frame.fd);
        return result;
      }
      const stat = fstatSync(fd);
      const type = stat.mode & S_IFMT;
      if (type === S_IFDIR) {
        stack.push({ name, fd: top });
        top = fd;
        topStat = stat;
        continue;
      }
      if (type !== S_IFLNK) {
        closeSync(fd);
        throw new NotADirectory(join(here));
      }
      closeSync(fd);
      const target = readlinkSync(`${viaHandle(top)}/${name}`);
      if (!trustedLink(topStat, stat, euid)) throw new UnsafeLink(join(here), target, topStat);
      if (++links > MAX_LINKS) throw Object.assign(new Error(`too many levels of symbolic links at ${join(here)}`), { code: 'ELOOP' });
      todo.unshift(...target.split('/').filter(Boolean));
      if (target.startsWith('/')) {
        for (const frame of stack.splice(0)) closeSync(frame.fd);
        closeSync(top);
        top = openSync('/', O_PATH | constants.O_DIRECTORY);
        topStat = fstatSync(top);
      }
    }
  } catch (error) {
    close();
    throw error;
  }
  const result: Chased = { fd: top, stat: topStat, real: join(stack.map((f) => f.name)), missing: [] };
  for (const frame of stack) closeSync(frame.fd);
  return result;
}
