// Resolves the configuration from the environment, env files and defaults, reporting every problem at once.

import { isUtf8 } from 'node:buffer';
import { close, open, read } from 'node:fs';
import { BootstrapError, EXIT, reason } from '../errors.ts';
import { fsCall } from '../fs-call.ts';
import { closestVariable } from '../suggest.ts';
import { Rejected } from './parse.ts';
import { VARIABLES, formatValue, type Context, type Lookup, type Values, type VariableName } from './variables.ts';

/** One source of variables: the process environment or an env file. */
export interface Layer {
  /** "environment" or the env file's path, as shown in messages. */
  readonly source: string;
  readonly values: Readonly<Record<string, string | undefined>>;
}

/** The resolved configuration. */
export interface Config {
  readonly values: Values;
  /** Every table variable's normalised text, as passed on. */
  readonly text: Readonly<Record<VariableName, string>>;
  /** Where each table variable came from: "environment", an env file, "default", "generated", or the variable it inherits with its source. */
  readonly source: Readonly<Record<VariableName, string>>;
  /** The environment handed on: every layer merged (earlier wins), then each table variable's text. */
  readonly env: Readonly<Record<string, string>>;
}

/** What bytes that are not UTF-8 read as, in the environment and in a file decoded as UTF-8. */
const REPLACEMENT = '\ufffd';
const NOT_UTF8 = 'it holds U+FFFD, which is what bytes that are not UTF-8 read as, and its bytes cannot be passed on as written; write it in UTF-8';

/** The most an env file may hold: /dev/zero, or a FIFO fed forever, would otherwise fill the memory until the kernel kills a process. */
const ENV_FILE_LIMIT = 16 * 2 ** 20;

/** The bytes of file `path`, read to its end in libuv's pool; undefined when it holds more than `limit`. */
async function readAtMost(path: string, limit: number): Promise<Buffer | undefined> {
  const fd = await fsCall<number>((done) => {
    open(path, 'r', done);
  });
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limit + 1 - total));
      const bytesRead = await fsCall<number>((done) => {
        read(fd, chunk, 0, chunk.length, null, done);
      });
      if (bytesRead === 0) return Buffer.concat(chunks, total);
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > limit) return undefined;
    }
  } finally {
    await fsCall<undefined>((done) => {
      close(fd, (error) => {
        done(error ?? null, undefined);
      });
    });
  }
}

/** Reads dotenv files in order; each unreadable file, or one that is not UTF-8, is one problem line. */
export async function readEnvFiles(paths: readonly string[]): Promise<{ layers: Layer[]; problems: string[] }> {
  const layers: Layer[] = [];
  const problems: string[] = [];
  if (paths.length === 0) return { layers, problems };
  const { parse } = await import('dotenv');
  for (const path of paths) {
    let bytes: Buffer | undefined;
    try {
      // In libuv's pool: a FIFO no one writes holds a thread there, not the signal handlers.
      bytes = await readAtMost(path, ENV_FILE_LIMIT);
    } catch (error) {
      problems.push(`--env-file ${path}: cannot read it: ${reason(error)}`);
      continue;
    }
    if (bytes === undefined) {
      problems.push(`--env-file ${path}: it is larger than ${ENV_FILE_LIMIT / 2 ** 20} MiB, which no env file is; name the right file`);
      continue;
    }
    // Decoded as it is, each such byte would become U+FFFD: another value than the one written.
    if (isUtf8(bytes)) layers.push({ source: path, values: parse(bytes.toString('utf8')) });
    else problems.push(`--env-file ${path}: line ${firstNotUtf8Line(bytes)} is not UTF-8; save the file as UTF-8`);
  }
  return { layers, problems };
}

/** The number of the first line of `bytes` that is not UTF-8. */
export function firstNotUtf8Line(bytes: Buffer): number {
  let line = 1;
  for (let start = 0; start < bytes.length; line++) {
    const newline = bytes.indexOf(0x0a, start);
    const end = newline < 0 ? bytes.length : newline;
    if (!isUtf8(bytes.subarray(start, end))) return line;
    start = end + 1;
  }
  return line;
}

/**
 * One warning line for each variable that is set but not in the table and looks like one of
 * it (a misspelt variable is otherwise ignored, and its default quietly wins). Pure: reads only `layers`.
 */
export function lookAlikeWarnings(layers: readonly Layer[]): string[] {
  const known = VARIABLES.map((v) => v.name);
  const warned = new Set<string>();
  const warnings: string[] = [];
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer.values)) {
      // An empty value counts as unset, whatever its name.
      if (value === undefined || value === '' || warned.has(name)) continue;
      const meant = closestVariable(name, known);
      if (meant === undefined) continue;
      warned.add(name);
      const from = layer.source === 'environment' ? '' : ` (from ${layer.source})`;
      warnings.push(`${name}${from} is not a variable hls-bootstrap reads, and is ignored; did you mean ${meant}?`);
    }
  }
  return warnings;
}

/**
 * Resolves every table variable. A value that is unset or empty in every layer takes the default.
 * Throws a BootstrapError (exit 78) listing every invalid value, one line each.
 */
export function resolveConfig(layers: readonly Layer[], ctx: Context, earlierProblems: readonly string[] = []): Config {
  const find = (name: string): { value: string; source: string } | undefined => {
    for (const layer of layers) {
      const value = layer.values[name];
      if (value !== undefined && value !== '') return { value, source: layer.source };
    }
    return undefined;
  };
  const lookup: Lookup = (name) => find(name)?.value;

  const problems = [...earlierProblems];
  const values: Record<string, unknown> = {};
  const text: Record<string, string> = {};
  const source: Record<string, string> = {};
  for (const variable of VARIABLES) {
    const own = find(variable.name);
    const inherited = own === undefined && variable.inherits !== undefined ? find(variable.inherits) : undefined;
    const given = own ?? inherited;
    const raw = given?.value ?? (typeof variable.default === 'string' ? variable.default : variable.default(lookup, ctx));
    source[variable.name] = own?.source ?? (inherited === undefined ? undefined : `${variable.inherits ?? ''} (${inherited.source})`)
      ?? (variable.generated === true ? 'generated' : 'default');
    try {
      if (given !== undefined && raw.includes(REPLACEMENT)) throw new Rejected(NOT_UTF8);
      const value = variable.parse(raw, ctx);
      values[variable.name] = value;
      text[variable.name] = formatValue(variable, value);
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      const shown = variable.secret === true ? '(value hidden)' : `=${JSON.stringify(raw)}`;
      const where = given === undefined || given.source === 'environment' ? [] : [`from ${given.source}`];
      // A value this variable took from another is reported under both names: the user set only the other.
      if (inherited !== undefined) where.unshift(`taken from ${variable.inherits ?? ''}, as ${variable.name} is unset`);
      const from = where.length === 0 ? '' : ` (${where.join(', ')})`;
      const detail = error.detail === undefined ? '' : `${error.detail}; `;
      problems.push(`${variable.name}${shown}${from} is not valid: ${detail}expected ${variable.accepted}`);
    }
  }

  const resolved = values as Values;
  for (const [critical, warn] of [['HLS_DISK_CRITICAL_MB', 'HLS_DISK_WARN_MB'], ['HLS_DISK_INODES_CRITICAL_PERCENT', 'HLS_DISK_INODES_WARN_PERCENT']] as const) {
    if (text[critical] !== undefined && text[warn] !== undefined && resolved[critical] > resolved[warn]) {
      problems.push(`${critical}=${JSON.stringify(text[critical])} is not valid: it is above ${warn} (${text[warn]}); expected at most the warning level`);
    }
  }
  if (problems.length > 0) throw new BootstrapError(EXIT.CONFIG, problems);

  const env: Record<string, string> = {};
  for (const layer of [...layers].reverse()) {
    for (const [name, value] of Object.entries(layer.values)) {
      if (value !== undefined && (value !== '' || env[name] === undefined)) env[name] = value;
    }
  }
  Object.assign(env, text);
  return {
    values: resolved,
    text: text as Record<VariableName, string>,
    source: source as Record<VariableName, string>,
    env,
  };
}
