// The kernel's limits on what execve can carry: one string at most MAX_ARG_STRLEN, all of them within a share of the stack.

import { endianness } from 'node:os';
import { readFileSync } from 'node:fs';

/** What bounds an exec's arguments and environment on this machine. */
export interface ArgLimits {
  readonly pageSize: number;
  /** RLIMIT_STACK's soft limit in bytes; Infinity when unlimited. */
  readonly stack: number;
  /** sizeof(void *) of this process. */
  readonly pointer: number;
}

/** The soft limit of row `name` ("Max stack size") of /proc/self/limits: Infinity when unlimited, undefined without the row. */
export function softLimit(limits: string | undefined, name: string): number | undefined {
  const soft = new RegExp(`^${name}\\s+(\\S+)`, 'm').exec(limits ?? '')?.[1];
  if (soft === 'unlimited') return Infinity;
  return soft === undefined ? undefined : Number(soft);
}

/** The soft limit of "Max stack size" in /proc/self/limits; 8 MiB, the usual default, without /proc. */
export function parseStackLimit(text: string | undefined): number {
  return softLimit(text, 'Max stack size') ?? 8 * 1024 * 1024;
}

/** AT_PAGESZ (6) from /proc/self/auxv, pairs of native words; 4096 without it. */
export function parsePageSize(auxv: Buffer | undefined, pointer = 8, little = endianness() === 'LE'): number {
  if (auxv === undefined) return 4096;
  const word = (at: number): number => (pointer === 8
    ? Number(little ? auxv.readBigUInt64LE(at) : auxv.readBigUInt64BE(at))
    : (little ? auxv.readUInt32LE(at) : auxv.readUInt32BE(at)));
  for (let at = 0; at + 2 * pointer <= auxv.length; at += 2 * pointer) {
    if (word(at) === 6) return word(at + pointer);
  }
  return 4096;
}

function readOptional(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** This process's limits, read now. */
export function readArgLimits(pointer: number): ArgLimits {
  return { pageSize: parsePageSize(readOptional('/proc/self/auxv'), pointer), stack: parseStackLimit(readOptional('/proc/self/limits')?.toString()), pointer };
}

/** One string execve copies, with what to call it in a message. */
export interface ArgString {
  readonly text: string;
  /** "the variable NAME", "argument 2 of the command". */
  readonly what: string;
}

/** Bytes the kernel copies for a string: its UTF-8, and the NUL that ends it. */
const size = (s: ArgString): number => Buffer.byteLength(s.text) + 1;

const bytes = (n: number): string => `${n.toLocaleString('en-US')} bytes`;

/**
 * Why execve would refuse these strings, checked as fs/exec.c does: a NUL cannot be passed, one
 * string may take at most MAX_ARG_STRLEN (32 pages) with its NUL, and all of them together (the
 * file name, the environment, the arguments) at most a quarter of RLIMIT_STACK, capped at 6 MiB
 * and never below 128 KiB, less a pointer for each argument and variable. `peak` is the most the
 * strings take at any moment, which a #! script raises by the interpreter's name and argument.
 */
export function argProblems(strings: readonly ArgString[], counts: { argc: number; envc: number }, peak: number, limits: ArgLimits): string[] {
  const problems: string[] = [];
  const maxString = limits.pageSize * 32;
  for (const s of strings) {
    if (s.text.includes('\0')) problems.push(`${s.what} holds a NUL byte, which execve cannot pass`);
    else if (size(s) > maxString) problems.push(`${s.what} takes ${bytes(size(s))}, more than the ${bytes(maxString)} the kernel allows one argument or variable (MAX_ARG_STRLEN)`);
  }
  if (problems.length > 0) return problems;
  const limit = Math.max(Math.min(6 * 1024 * 1024, Math.floor(limits.stack / 4)), 128 * 1024);
  const room = limit - (Math.max(counts.argc, 1) + counts.envc) * limits.pointer;
  if (peak <= room) return [];
  // Name the largest strings, as many as must go for the rest to fit.
  const largest = [...strings].sort((a, b) => size(b) - size(a));
  const named: string[] = [];
  for (let excess = peak - Math.max(room, 0); excess > 0 && largest.length > 0;) {
    const s = largest.shift() as ArgString;
    named.push(`${s.what} (${bytes(size(s))})`);
    excess -= size(s);
  }
  const stack = limits.stack === Infinity ? 'unlimited' : `${Math.round(limits.stack / 1024)} KiB`;
  const pointers = bytes((Math.max(counts.argc, 1) + counts.envc) * limits.pointer);
  return [`the environment and arguments take ${bytes(peak)}, and their pointers ${pointers} more, beyond the ${bytes(limit)} execve allows with a stack limit of ${stack} (ulimit -s): the largest are ${named.join(', ')}`];
}

/** The bytes the strings take on the new stack: each with its NUL. */
export function stringBytes(strings: readonly ArgString[]): number {
  return strings.reduce((sum, s) => sum + size(s), 0);
}
