// Strings Node.js decoded from bytes that are not UTF-8: it passes strings on as UTF-8, so the program would get U+FFFD in their place.

import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import type { ArgString } from './limits.ts';

/**
 * The entries of a NUL-separated list (/proc/self/environ, /proc/self/cmdline) that are not
 * UTF-8, as Node.js decoded them into process.env and process.argv: each invalid sequence as U+FFFD.
 */
export function undecodable(list: Buffer | undefined): Set<string> {
  const found = new Set<string>();
  if (list === undefined) return found;
  for (let start = 0; start < list.length;) {
    const end = list.indexOf(0, start);
    const entry = list.subarray(start, end < 0 ? list.length : end);
    if (!isUtf8(entry)) found.add(entry.toString('utf8'));
    start = end < 0 ? list.length : end + 1;
  }
  return found;
}

/** This process's environment and arguments as the kernel gave them: the strings of them that are not UTF-8. */
export function readUndecodable(): Set<string> {
  const read = (name: string): Buffer | undefined => {
    try {
      return readFileSync(`/proc/self/${name}`);
    } catch {
      // No /proc: nothing to compare with.
      return undefined;
    }
  };
  return new Set([...undecodable(read('environ')), ...undecodable(read('cmdline'))]);
}

/**
 * Why strings execve would pass on would reach the program changed: each that came from bytes
 * that are not UTF-8 (a variable as NAME=value). A string that only holds U+FFFD is not one of them.
 */
export function encodingProblems(strings: readonly ArgString[], changed: ReadonlySet<string>): string[] {
  return strings
    .filter((s) => s.text.includes('\uFFFD') && changed.has(s.text))
    .map((s) => `${s.what} holds bytes that are not UTF-8, which Node.js can pass on only as U+FFFD: the program would get it changed`);
}
