// Names exactly as the kernel gives them (strings where they decode losslessly, else bytes), shown escaped; counts in words.

import { isUtf8 } from 'node:buffer';
import { readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { reason } from '../errors.ts';

/** A name in a directory: a string where it is valid UTF-8 (Node is fastest with those), else its bytes. */
export type Name = string | Buffer;

/**
 * The names in the working directory, exactly: as strings, unless one is not valid UTF-8 (Node
 * decodes it to U+FFFD, which would name nothing); then every name of that directory as bytes.
 */
export function listNames(): Name[] {
  const names = readdirSync('.');
  return names.some((n) => n.includes('\uFFFD')) ? readdirSync('.', { encoding: 'buffer' }) : names;
}

/** The proxy's per-stream directories: the only entries the sweep removes, and in a shared directory, re-owns. */
export const STREAM_DIR_PREFIX = 'm3u_proxy_hls_';
const PREFIX = Buffer.from(STREAM_DIR_PREFIX);

/** Whether `name` is that of a stream directory, byte for byte. */
export function isStreamName(name: Name): boolean {
  if (typeof name === 'string') return name.startsWith(STREAM_DIR_PREFIX);
  return name.length >= PREFIX.length && name.subarray(0, PREFIX.length).equals(PREFIX);
}

// Backslash, C0 and C1 controls and DEL: a newline in a name must never start a log line of its own.
// eslint-disable-next-line no-control-regex
const ESCAPED = /[\\\x00-\x1f\x7f-\x9f]/g;
const SHORT: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r' };

function hex(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) out += `\\x${byte.toString(16).padStart(2, '0')}`;
  return out;
}

function escapeText(text: string): string {
  return text.replace(ESCAPED, (c) => SHORT[c] ?? hex(Buffer.from(c)));
}

/** The length of the UTF-8 sequence that `lead` starts, or 0 if no valid sequence starts with it. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * `name` as text that says exactly which bytes it is: valid UTF-8 as itself, every other byte as
 * `\xNN`, a backslash as `\\`, and control characters escaped.
 */
export function showName(name: Name): string {
  if (typeof name === 'string') return escapeText(name);
  if (isUtf8(name)) return escapeText(name.toString('utf8'));
  let out = '';
  for (let i = 0; i < name.length;) {
    const length = sequenceLength(name[i] ?? 0);
    const sequence = name.subarray(i, i + Math.max(length, 1));
    if (length > 0 && sequence.length === length && isUtf8(sequence)) {
      out += escapeText(sequence.toString('utf8'));
      i += length;
    } else {
      out += hex(name.subarray(i, i + 1));
      i++;
    }
  }
  return out;
}

/** A path from its names, each shown as `showName` shows it. */
export function showPath(names: readonly Name[]): string {
  return names.map(showName).join('/');
}

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;

/**
 * Why a system call failed, for the log: never the path it names (the caller shows that escaped),
 * also for an errno Node has no name for (ESTALE, from a network filesystem), and no control
 * character.
 */
export function showReason(error: unknown): string {
  // Node's own system errors: they carry the call (and the path) they failed in.
  const errno = error instanceof Error && 'syscall' in error && 'errno' in error && typeof error.errno === 'number' ? error.errno : undefined;
  let text = reason(error);
  if (errno !== undefined && !/ \(E[A-Z0-9]+\)$/.test(text)) {
    const name = Object.entries(constants.errno).find(([, n]) => n === -errno)?.[0];
    text = `system error ${name ?? String(-errno)}`;
  }
  return text.replace(CONTROLS, (c) => hex(Buffer.from(c)));
}

/** "1 entry", "2 entries". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
