// Runs a program to completion without blocking the event loop, with a deadline, and captures what it printed.

import { spawn } from 'node:child_process';

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly input?: string;
  readonly cwd?: string;
  /** Milliseconds before the program is killed; the result then says so in stderr. */
  readonly timeout?: number;
}

/** Runs `file` with `args`; never throws for a failing program, only for one that cannot start. */
export function run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const input = options.input;
    const child = spawn(file, args, { env: options.env, cwd: options.cwd ?? '/', stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeout ?? 0} ms]`;
      child.kill('SIGKILL');
    }, options.timeout ?? 300_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (input !== undefined && child.stdin !== null) {
      // A program that exits without reading its input is not a failure of the run.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    }
  });
}

/** Runs `file` and returns its stdout; throws with its stderr when it fails. */
export async function output(file: string, args: readonly string[], options: RunOptions): Promise<string> {
  const r = await run(file, args, options);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.code ?? r.signal ?? '?'}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
