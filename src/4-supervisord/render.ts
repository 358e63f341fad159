// Renders supervisord's config: the template with the environment= line of [program:m3u-proxy] edited. Pure.

import type { Config } from '../1-config/resolve.ts';
import { VARIABLES } from '../1-config/variables.ts';
import { BootstrapError, EXIT } from '../errors.ts';
import { effectiveOption, iniProblems, joinLines, optionValue, setOption, splitLines, withoutComment, type Line, type Span } from './ini.ts';
import { editPairs, splitPairs, type PairList } from './pairs.ts';
import { quotedPairs, type LineEntry } from './quote.ts';
import { ShlexError } from './shlex.ts';
import { withoutOwnUid } from './own-user.ts';

export const PROGRAM_SECTION = 'program:m3u-proxy';

/** The rendered file, and what went into it. */
export interface Rendered {
  readonly text: string;
  /** The environment= option as written, and with secrets hidden. */
  readonly line: string;
  readonly shown: string;
  /** The template had no environment= in the section, so one was added. */
  readonly added: boolean;
  /** The values hls-bootstrap set in the line, each under the name the proxy reads. */
  readonly entries: readonly LineEntry[];
  /** Of those, the names the template's line lacked, appended to it. */
  readonly appended: readonly string[];
  /** The template's other keys, kept as written. */
  readonly kept: readonly string[];
  /** Whether the file holds a secret, and so must be readable by its owner only. */
  readonly secret: boolean;
  /** Every %(ENV_X)s the file refers to, by X. */
  readonly references: readonly string[];
  /** `user=` options left out because they name the uid a non-root supervisord runs as anyway. */
  readonly ownUser: readonly string[];
}

/**
 * The proxy's variables, each with the value the configuration resolved, in table order; an alias
 * only where `present` (the template line's keys) has it, and so every spelling of `present` that
 * differs from a name only in case: m3u-proxy reads its settings in any case (pydantic,
 * case_sensitive=False), and of two spellings the later in its environment wins.
 */
export function proxyEntries(config: Config, present: ReadonlySet<string> = new Set()): LineEntry[] {
  return VARIABLES.flatMap((v) => {
    if (v.proxy === undefined) return [];
    const names = [v.proxy, ...(v.proxyAliases ?? []).filter((alias) => present.has(alias))];
    const lower = new Set(names.map((name) => name.toLowerCase()));
    const spellings = [...present].filter((key) => !names.includes(key) && lower.has(key.toLowerCase()));
    return [...names, ...spellings].map((name) => ({ name, value: config.text[v.name], variable: v.name, secret: v.secret === true }));
  });
}

/**
 * Python `%` formatting as supervisord applies it: the names of every `%(name)s`, and a problem for
 * each `%` that is neither `%%` nor such a reference ("badly formatted" to supervisord).
 */
export function percentReferences(text: string): { names: string[]; problems: string[] } {
  const names: string[] = [];
  const problems: string[] = [];
  splitLines(text).forEach((line, index) => {
    const s = withoutComment(line.text);
    for (let i = s.indexOf('%'); i >= 0; i = s.indexOf('%', i + 1)) {
      if (s[i + 1] === '%') {
        i++;
        continue;
      }
      const reference = /^%\(([^)]*)\)[#0\- +]*(?:\d+)?(?:\.\d+)?[diouxXeEfFgGcrsa]/.exec(s.slice(i));
      if (reference?.[1] === undefined) {
        problems.push(`line ${index + 1} has a % that is neither %% nor a %(NAME)s reference, which supervisord rejects as badly formatted`);
        break;
      }
      names.push(reference[1]);
      i += reference[0].length - 1;
    }
  });
  return { names, problems };
}

/** The template's environment= as pairs, with what surrounds its value on a line of its own. */
interface Existing {
  readonly pairs: PairList;
  /** `environment=` as the template writes it, and what follows the value on its line (an inline comment). */
  readonly prefix: string;
  readonly suffix: string;
}

function existingLine(lines: readonly Line[], option: Span): Existing {
  const first = lines[option.start]?.text ?? '';
  const prefix = /^[^=:]*[=:]\s*/.exec(first)?.[0] ?? 'environment=';
  // A value on continuation lines is written back joined; one on a single line keeps its comment.
  const suffix = option.end - option.start === 1 ? first.slice(withoutComment(first).trimEnd().length) : '';
  return { pairs: splitPairs(optionValue(lines, option)), prefix, suffix };
}

/**
 * Renders `template` for `config`, for a supervisord that runs as `euid` (when given); throws 78 with
 * every problem: the section, the line, values, and references.
 */
export function render(template: string, config: Config, euid?: number): Rendered {
  const lines = splitLines(template);
  // The line supervisord uses: where the section or the option is written twice, the last.
  const { section, option } = effectiveOption(lines, PROGRAM_SECTION, 'environment') ?? {};
  const problems = iniProblems(lines).map((problem) => `supervisord cannot read the template: ${problem}`);
  if (section === undefined) problems.push(`the supervisord template has no [${PROGRAM_SECTION}] section`);
  let existing: Existing | undefined;
  try {
    existing = option === undefined ? undefined : existingLine(lines, option);
  } catch (error) {
    if (!(error instanceof ShlexError)) throw error;
    problems.push(`supervisord cannot read the template's environment= in [${PROGRAM_SECTION}]: ${error.message}`);
  }
  const entries = proxyEntries(config, new Set(existing?.pairs.pairs.map((p) => p.key)));
  const quoted = quotedPairs(entries);
  if ('problems' in quoted) problems.push(...quoted.problems);
  if (section === undefined || 'problems' in quoted || problems.length > 0) throw new BootstrapError(EXIT.CONFIG, problems);

  const empty: PairList = { lead: '', pairs: [], separators: [], tail: '' };
  const edit = editPairs(existing?.pairs ?? empty, quoted.pairs);
  const { prefix, suffix } = existing ?? { prefix: 'environment=', suffix: '' };
  // configparser joins continuation lines with newlines; written back indented deeper than the
  // option's own line, they read the same.
  const eol = lines.find((l) => l.eol !== '')?.eol ?? '\n';
  const indent = /^\s*/.exec(prefix)?.[0] ?? '';
  const continued = (value: string): string => value.replaceAll('\n', `${eol}${indent}    `);
  const line = `${prefix}${continued(edit.text)}${suffix}`;
  const { lines: withLine, added } = setOption(lines, section, 'environment', line);
  const { lines: rendered, removed: ownUser } = euid === undefined ? { lines: withLine, removed: [] } : withoutOwnUid(withLine, config.env, euid);
  const text = joinLines(rendered);

  const refs = percentReferences(text);
  const references = [...new Set(refs.names.filter((n) => n.startsWith('ENV_')).map((n) => n.slice(4)))];
  problems.push(...refs.problems);
  for (const name of references.filter((n) => config.env[n] === undefined)) {
    problems.push(`the supervisord config refers to %(ENV_${name})s, but ${name} is not set in the environment supervisord starts with`);
  }
  if (problems.length > 0) throw new BootstrapError(EXIT.CONFIG, problems);
  return {
    text, line, shown: `${prefix}${continued(edit.shown)}${suffix}`, added, entries, appended: edit.appended, kept: edit.kept,
    secret: entries.some((e) => e.secret === true), references, ownUser,
  };
}
