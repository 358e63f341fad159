// The package as it ships (package.json's files) and the pinned Node, copied where every user can reach them.
//
// Tests run hls-bootstrap as other users (setpriv, --user, supervisord's user=), and those users
// must reach the program, its Node and the fixtures it is given. A checkout may lie where they
// cannot (under /root, mode 0700) or in a path with spaces that a supervisord command= line would
// split; a copy in the temporary directory has neither problem, and, beside no node_modules, it
// also proves that the bundles hold every library they use.

import { chmodSync, copyFileSync, globSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './root.ts';


/** What npm puts in the tarball besides package.json's files, whatever they say. */
const ALWAYS_SHIPPED = ['package.json', 'README.md', 'LICENSE'];

/** The checkout's paths that `npm pack` would put in the tarball: package.json's files, expanded. */
export function shippedFiles(root = ROOT): string[] {
  const { files } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
  const found = files.flatMap((pattern) => globSync(pattern.replace(/\/$/, '/**'), { cwd: root }));
  return [...new Set([...ALWAYS_SHIPPED, ...found])].filter((path) => lstatSync(join(root, path), { throwIfNoEntry: false })?.isFile() === true).sort();
}

/** Throws unless every directory from / down to `dir` lets other users through. */
function assertReachable(dir: string): void {
  for (let path = dir; ; path = dirname(path)) {
    if ((statSync(path).mode & 0o001) === 0) {
      throw new Error(`${path} is not searchable by other users, so tests that run as one cannot reach ${dir}; point TMPDIR elsewhere`);
    }
    if (path === dirname(path)) return;
  }
}

/** Copies `from` to `to` readable (and, if `executable`, runnable) by everyone. */
function copy(from: string, to: string, executable: boolean): void {
  mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
  copyFileSync(from, to);
  chmodSync(to, executable ? 0o755 : 0o644);
}

/** The pinned Node at `to`: a hard link where it can be one and everyone may run it (no 120 MB copy), else a copy. */
function placeNode(to: string): void {
  const from = realpathSync(process.execPath);
  mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
  if ((lstatSync(from).mode & 0o005) === 0o005) {
    try {
      linkSync(from, to);
      return;
    } catch {
      // Another filesystem, or hard links refused: copy it.
    }
  }
  copy(from, to, true);
}

/** Where the copy is, and what in it the tests use. */
export interface Shipped {
  readonly dir: string;
  /** The package's bin/hls-bootstrap. */
  readonly bin: string;
  /** The pinned Node, as `node` in a directory of its own. */
  readonly node: string;
  /** The shipped supervisord template. */
  readonly template: string;
  /** The stand-in proxy, a fixture beside the package. */
  readonly standIn: string;
}

/** Makes the copy, removed when this process exits. */
function ship(): Shipped {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'hls-bootstrap-shipped-')));
  process.on('exit', () => {
    rmSync(dir, { recursive: true, force: true });
  });
  chmodSync(dir, 0o755);
  assertReachable(dir);
  const pkg = join(dir, 'package');
  for (const path of shippedFiles()) {
    const executable = (statSync(join(ROOT, path)).mode & 0o100) !== 0;
    copy(join(ROOT, path), join(pkg, path), executable);
  }
  const node = join(dir, 'node', 'bin', 'node');
  placeNode(node);
  const standIn = join(dir, 'fixtures', 'm3u-proxy-stand-in.mjs');
  copy(join(ROOT, 'docker', 'demo', 'm3u-proxy-stand-in.mjs'), standIn, true);
  return { dir, bin: join(pkg, 'bin', 'hls-bootstrap'), node, template: join(pkg, 'docker', 'supervisord.conf'), standIn };
}

/** The copy for this process: one per test file, since node --test runs each in its own. */
export const SHIPPED: Shipped = ship();
