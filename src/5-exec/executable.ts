// Whether execve would run a file for given credentials: every check the kernel makes, the #! and ELF interpreters included.

import { closeSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { reason } from '../errors.ts';
import { HEAD_SIZE, isElf, parseShebang, readElf, type Kernel, type ReadAt } from './binary.ts';
import { MAY_EXEC, permits, type Credentials } from './credentials.ts';
import { noexecMount, type Mount } from './mounts.ts';
import { describeInode, walk } from './walk.ts';

/** What the check reads about the system, once per plan. */
export interface ExecSystem {
  readonly cred: Credentials;
  readonly cwd: string;
  readonly mounts: readonly Mount[] | undefined;
  readonly kernel: Kernel;
}

/** A #! line: the kernel puts these before the script's own arguments. */
export interface ScriptLevel {
  readonly interpreter: string;
  readonly argument: string | undefined;
}

export type Verdict =
  /** `opened`: every file the kernel opens to exec, the file first; `scripts`: the #! levels in order. */
  | { readonly ok: true; readonly opened: readonly string[]; readonly scripts: readonly ScriptLevel[] }
  /** `absent`: nothing is there (exit 127); otherwise something is that cannot be executed (126). */
  | { readonly ok: false; readonly absent: boolean; readonly reason: string };

/** The kernel re-execs an interpreter at most this deep (exec_binprm), else ELOOP. */
const MAX_DEPTH = 5;

/** Reads `length` bytes at `offset`; an empty buffer where the file cannot be read, which `readable` tells from an empty file. */
function reader(path: string): { read: ReadAt; close: () => void; readable: boolean } {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
  } catch {
    // Executable without read permission (mode 0711): the kernel needs none, and the format cannot be judged.
  }
  return {
    read: (offset, length) => {
      if (fd === undefined) return Buffer.alloc(0);
      const buffer = Buffer.alloc(length);
      return buffer.subarray(0, readSync(fd, buffer, 0, length, offset));
    },
    close: () => {
      if (fd !== undefined) closeSync(fd);
    },
    readable: fd !== undefined,
  };
}

/** The file at `path` as open_exec() takes it: reached, a regular file, executable for `cred`, on an exec mount. */
function openable(path: string, system: ExecSystem): { ok: true } | { ok: false; absent: boolean; reason: string } {
  const walked = walk(path, system.cred);
  if (!walked.ok) return walked;
  const { stat, real } = walked;
  if (stat.isDirectory()) return { ok: false, absent: false, reason: 'it is a directory' };
  if (!stat.isFile()) return { ok: false, absent: false, reason: 'it is not a regular file' };
  if (!permits(stat, system.cred, MAY_EXEC)) {
    return { ok: false, absent: false, reason: `uid ${system.cred.uid} (gid ${system.cred.gid}, groups ${system.cred.groups.join(',') || 'none'}) may not execute it (${describeInode(stat)})` };
  }
  const noexec = noexecMount(real, system.mounts);
  if (noexec !== undefined) return { ok: false, absent: false, reason: `it lies on ${noexec}, which is mounted noexec` };
  return { ok: true };
}

/**
 * Judges `path` (absolute) as execve would for `system.cred`: the walk to it, the file itself, its
 * format, and recursively the interpreter its #! line or ELF header names. Depth as in the kernel.
 */
export function checkExecutable(path: string, system: ExecSystem, depth = 0): Verdict {
  if (depth > MAX_DEPTH) return { ok: false, absent: false, reason: `its #! interpreters nest deeper than the kernel follows (${MAX_DEPTH}, ELOOP)` };
  const file = openable(path, system);
  if (!file.ok) return file;
  const { read, close, readable } = reader(path);
  try {
    const head = read(0, HEAD_SIZE);
    // Unreadable: only the kernel can say more. Empty: no format matches, as below.
    if (head.length === 0 && !readable) return { ok: true, opened: [path], scripts: [] };
    if (head.length === 0) return { ok: false, absent: false, reason: 'it is an empty file, neither a binary nor a script with a #! line (ENOEXEC)' };
    if (isElf(head)) {
      const elf = readElf(read, system.kernel);
      if ('problem' in elf) return { ok: false, absent: false, reason: elf.problem };
      if (elf.interpreter === '') return { ok: true, opened: [path], scripts: [] };
      const loader = resolve(system.cwd, elf.interpreter);
      const opened = openable(loader, system);
      if (!opened.ok) return { ok: false, absent: false, reason: `its ELF interpreter ${elf.interpreter} cannot be used: ${opened.reason}${opened.absent ? ' (a binary built for another C library?)' : ''}` };
      const { read: readLoader, close: closeLoader, readable: loaderReadable } = reader(loader);
      try {
        const loaderHead = readLoader(0, HEAD_SIZE);
        const judged = loaderHead.length === 0 && !loaderReadable ? { interpreter: '' }
          : loaderHead.length === 0 ? { problem: 'it is an empty file' }
          : isElf(loaderHead) ? readElf(readLoader, system.kernel, true) : { problem: 'it is not an ELF file' };
        if ('problem' in judged) return { ok: false, absent: false, reason: `its ELF interpreter ${elf.interpreter} cannot be used: ${judged.problem}` };
      } finally {
        closeLoader();
      }
      return { ok: true, opened: [path, loader], scripts: [] };
    }
    if (head.subarray(0, 2).toString('latin1') !== '#!') return { ok: false, absent: false, reason: 'it is neither a binary nor a script with a #! line (ENOEXEC)' };
    const line = parseShebang(head);
    if ('problem' in line) return { ok: false, absent: false, reason: line.problem };
    // The kernel takes the interpreter as a path, relative ones from the working directory, never from PATH.
    const inner = checkExecutable(resolve(system.cwd, line.interpreter), system, depth + 1);
    if (!inner.ok && inner.absent && line.interpreter.endsWith('\r')) {
      // The \r would also return a terminal's cursor to the start of the line and hide what comes before it.
      return { ok: false, absent: false, reason: `its #! line ends in a carriage return, so the kernel looks for an interpreter named ${JSON.stringify(line.interpreter)}, which does not exist (a file saved with Windows line endings?)` };
    }
    if (!inner.ok) return { ok: false, absent: false, reason: `its interpreter ${line.interpreter} cannot be used: ${inner.reason}` };
    return { ok: true, opened: [path, ...inner.opened], scripts: [line, ...inner.scripts] };
  } catch (error) {
    return { ok: false, absent: false, reason: reason(error) };
  } finally {
    close();
  }
}
