// Exit codes and the one error class that carries them to the entry point.

/**
 * Every exit status hls-bootstrap itself chooses. Anything else is the status of
 * the program it ran (`run --supervise`), or 128+N when that program died of signal N.
 */
export const EXIT = {
  /** Every step succeeded. */
  OK: 0,
  /** An unexpected internal error: the stack is printed, and it is a bug. */
  BUG: 1,
  /** The command line could not be understood. */
  USAGE: 2,
  /** The HLS directory could not be prepared (EX_CANTCREAT). */
  STORAGE: 73,
  /** Free disk space is critical and HLS_DISK_CRITICAL_ACTION=fail (EX_TEMPFAIL). */
  DISK_CRITICAL: 75,
  /** A configuration value is invalid (EX_CONFIG). */
  CONFIG: 78,
  /** The command to exec exists but cannot be executed. */
  CANNOT_EXECUTE: 126,
  /** The command to exec was not found. */
  NOT_FOUND: 127,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * An expected failure: the entry prints `problems`, one plain line each, and exits
 * with `exitCode`. Anything thrown that is not a BootstrapError is a bug.
 */
export class BootstrapError extends Error {
  readonly exitCode: number;
  readonly problems: readonly string[];

  constructor(exitCode: number, problems: string | readonly string[], options?: { cause?: unknown }) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('\n'), options);
    this.name = 'BootstrapError';
    this.exitCode = exitCode;
    this.problems = list;
  }
}

/** The `code` of a Node.js system error (`ENOENT`, `EPERM`, ...), if it has one. */
export function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

/** A one-line reason for a system error: "ENOENT: no such file or directory" without the call and path. */
export function reason(error: unknown): string {
  const code = errnoCode(error);
  const text = error instanceof Error ? error.message : String(error);
  // Node formats system errors as "CODE: description, syscall 'path'": keep the description.
  const match = /^[A-Z0-9_]+: ([^,]+)/.exec(text);
  return match?.[1] !== undefined && code !== undefined ? `${match[1]} (${code})` : text;
}
