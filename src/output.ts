// Where the steps report: log lines on stdout, diagnostics on stderr, or one JSON document.

/** A stream the output writes to; process.stdout and process.stderr fit. */
export interface OutStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface OutputOptions {
  readonly quiet: boolean;
  readonly json: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
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
  /** Colours for stdout lines. */
  readonly paint: Palette;
  /** What each step found and did, for --json. */
  readonly steps: Record<string, unknown> = {};
  private readonly out: OutStream;
  private readonly err: OutStream;
  private readonly errPaint: Palette;

  private constructor(out: OutStream, err: OutStream, options: OutputOptions, paint: Palette, errPaint: Palette) {
    this.out = out;
    this.err = err;
    this.quiet = options.quiet;
    this.json = options.json;
    this.paint = paint;
    this.errPaint = errPaint;
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
