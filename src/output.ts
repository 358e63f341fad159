// Where the steps report: log lines on stdout, diagnostics on stderr, or one JSON document.

import { fstatSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { errnoCode } from './errors.ts';

/** Bytes in the largest binary unit that keeps the number at 1 or more: "1.5 GiB", "20 GiB", "512 B". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 ? String(value) : value.toFixed(1).replace(/\.0$/, '');
  return `${shown} ${units[unit] ?? 'B'}`;
}

/** A stream the output writes to. */
export interface OutStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** Terminal width, when it is a terminal. */
  readonly columns?: number | undefined;
}

/** Linux device majors of terminals: tty, /dev/tty and console, pseudo-terminals (Documentation/admin-guide/devices.txt). */
const TERMINAL_MAJORS = new Set([4, 5, 136, 137, 138, 139, 140, 141, 142, 143]);

/**
 * A synchronous stream on a file descriptor. process.stdout would load Node's net and stream
 * modules, a tenth of the start-up; and writing synchronously keeps the log in order before exec.
 */
export function fdStream(fd: number): OutStream {
  let tty: { isatty: boolean; columns: number | undefined } | undefined;
  const probe = (): { isatty: boolean; columns: number | undefined } => {
    if (tty !== undefined) return tty;
    // Only a terminal device can be a terminal: a pipe, a file or /dev/null never needs node:tty.
    let terminal = false;
    try {
      const st = fstatSync(fd);
      terminal = st.isCharacterDevice() && TERMINAL_MAJORS.has(Math.floor(st.rdev / 256) & 0xfff);
    } catch {
      // A closed descriptor is not a terminal.
    }
    const ttyModule = terminal ? (createRequire(import.meta.url)('node:tty') as typeof import('node:tty')) : undefined;
    tty = ttyModule?.isatty(fd) === true ? { isatty: true, columns: new ttyModule.WriteStream(fd).columns } : { isatty: false, columns: undefined };
    return tty;
  };
  let closed = false;
  return {
    write(text: string): void {
      const bytes = Buffer.from(text);
      for (let offset = 0; offset < bytes.length && !closed;) {
        try {
          offset += writeSync(fd, bytes, offset);
        } catch (error) {
          // The reader went away (`hls-bootstrap env | head`): drop the rest, as a shell pipeline expects.
          if (errnoCode(error) === 'EPIPE') closed = true;
          // A non-blocking pipe that is full: wait for the reader.
          else if (errnoCode(error) === 'EAGAIN') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          else throw error;
        }
      }
    },
    get isTTY() {
      return probe().isatty;
    },
    get columns() {
      return probe().columns;
    },
  };
}

export interface OutputOptions {
  readonly quiet: boolean;
  readonly json: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Milliseconds, for spacing progress lines; Date.now by default. */
  readonly clock?: () => number;
}

type Paint = (text: string) => string;

/** The colours in use; identity functions when a stream gets no colour. */
interface Palette {
  readonly ok: Paint;
  readonly warn: Paint;
  readonly error: Paint;
  readonly bold: Paint;
  readonly dim: Paint;
}

const plain: Palette = { ok: String, warn: String, error: String, bold: String, dim: String };

/** Whether `stream` gets colour: never with NO_COLOR, always with FORCE_COLOR, else only on a terminal. */
export function wantsColour(stream: OutStream, env: OutputOptions['env']): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

async function palette(enabled: boolean): Promise<Palette> {
  // chalk is loaded only when some stream gets colour: a container's logs are not a terminal.
  if (!enabled) return plain;
  const { Chalk } = await import('chalk');
  const chalk = new Chalk({ level: 1 });
  return { ok: chalk.green, warn: chalk.yellow, error: chalk.red, bold: chalk.bold, dim: chalk.dim };
}

/** The reporter every step writes through. */
export class Output {
  readonly quiet: boolean;
  readonly json: boolean;
  /** Colours for stdout lines (none when stdout is not a terminal). */
  readonly paint: Palette;
  /** What each step found and did, for --json. */
  readonly steps: Record<string, unknown> = {};
  private readonly out: OutStream;
  private readonly err: OutStream;
  private readonly errPaint: Palette;
  private lastProgress = 0;
  private progressShown = false;
  private readonly clock: () => number;

  private constructor(out: OutStream, err: OutStream, options: OutputOptions, paint: Palette, errPaint: Palette) {
    this.out = out;
    this.err = err;
    this.quiet = options.quiet;
    this.json = options.json;
    this.paint = paint;
    this.errPaint = errPaint;
    this.clock = options.clock ?? Date.now;
  }

  static async create(out: OutStream, err: OutStream, options: OutputOptions): Promise<Output> {
    const outColour = wantsColour(out, options.env);
    const errColour = wantsColour(err, options.env);
    const [outPaint, errPaint] = await Promise.all([palette(outColour), palette(errColour)]);
    return new Output(out, err, options, outPaint, errPaint);
  }

  /** A log line on stdout; dropped with --quiet or --json. */
  info(line: string): void {
    if (!this.quiet && !this.json) this.out.write(`${line}\n`);
  }

  /** A warning on stderr, shown even with --quiet. */
  warn(line: string): void {
    this.err.write(`${this.errPaint.warn(line)}\n`);
  }

  /** An error line on stderr. */
  error(line: string): void {
    this.err.write(`${this.errPaint.error(line)}\n`);
  }

  /**
   * Progress of a long walk: a live line on a terminal (stderr), otherwise a log line at most
   * every five seconds. Nothing with --quiet or --json.
   */
  progress(text: string): void {
    if (this.quiet || this.json) return;
    const now = this.clock();
    if (this.lastProgress === 0) this.lastProgress = now;
    if (this.err.isTTY === true) {
      if (now - this.lastProgress < 100 && this.progressShown) return;
      this.err.write(`\r${text}\u001b[K`);
      this.progressShown = true;
      this.lastProgress = now;
    } else if (now - this.lastProgress >= 5000) {
      this.out.write(`${text}\n`);
      this.lastProgress = now;
    }
  }

  /** Ends a progress display: clears the live line. */
  progressDone(): void {
    if (this.progressShown) this.err.write('\r\u001b[K');
    this.progressShown = false;
    this.lastProgress = 0;
  }

  /** Raw text on stdout, for commands whose output is their result (env, render-config -o -). */
  result(text: string): void {
    this.out.write(text);
  }

  /** Records what a step found and did, for the --json document. */
  record(step: string, data: unknown): void {
    this.steps[step] = data;
  }

  /** Prints the --json document: the recorded steps plus `extra`. */
  printDocument(extra: Record<string, unknown>): void {
    if (this.json) this.out.write(`${JSON.stringify({ ...extra, steps: this.steps }, null, 2)}\n`);
  }
}
