// Resolves the configuration from the environment, env files and defaults, reporting every problem at once.

import { readFileSync } from 'node:fs';
import { BootstrapError, EXIT, reason } from '../errors.ts';
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
  /** Where each table variable came from: "environment", an env file, "default" or "generated". */
  readonly source: Readonly<Record<VariableName, string>>;
  /** The environment handed on: every layer merged (earlier wins), then each table variable's text. */
  readonly env: Readonly<Record<string, string>>;
}

/** Reads dotenv files in order; each unreadable file is one problem line. */
export async function readEnvFiles(paths: readonly string[]): Promise<{ layers: Layer[]; problems: string[] }> {
  const layers: Layer[] = [];
  const problems: string[] = [];
  if (paths.length === 0) return { layers, problems };
  const { parse } = await import('dotenv');
  for (const path of paths) {
    try {
      layers.push({ source: path, values: parse(readFileSync(path, 'utf8')) });
    } catch (error) {
      problems.push(`--env-file ${path}: cannot read it: ${reason(error)}`);
    }
  }
  return { layers, problems };
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
    const given = find(variable.name);
    const raw = given?.value ?? (typeof variable.default === 'string' ? variable.default : variable.default(lookup, ctx));
    source[variable.name] = given?.source ?? (variable.generated === true ? 'generated' : 'default');
    try {
      const value = variable.parse(raw, ctx);
      values[variable.name] = value;
      text[variable.name] = formatValue(variable, value);
    } catch (error) {
      if (!(error instanceof Rejected)) throw error;
      const shown = variable.secret === true ? '(value hidden)' : `=${JSON.stringify(raw)}`;
      const from = given === undefined || given.source === 'environment' ? '' : ` (from ${given.source})`;
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
