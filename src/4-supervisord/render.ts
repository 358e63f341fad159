// Renders supervisord's config: the template with the environment= line of [program:m3u-proxy] replaced. Pure.

import type { Config } from '../1-config/resolve.ts';
import { VARIABLES } from '../1-config/variables.ts';
import { BootstrapError, EXIT } from '../errors.ts';
import { findSection, joinLines, setOption, splitLines, withoutComment } from './ini.ts';
import { withoutOwnUid } from './own-user.ts';
import { environmentLine, type LineEntry } from './quote.ts';

export const PROGRAM_SECTION = 'program:m3u-proxy';

/** The rendered file, and what went into it. */
export interface Rendered {
  readonly text: string;
  /** The environment= line as written, and with secrets hidden. */
  readonly line: string;
  readonly shown: string;
  /** The template had no environment= in the section, so one was added. */
  readonly added: boolean;
  readonly entries: readonly LineEntry[];
  /** Whether the file holds a secret, and so must be readable by its owner only. */
  readonly secret: boolean;
  /** Every %(ENV_X)s the file refers to, by X. */
  readonly references: readonly string[];
  /** `user=` options left out because they name the uid a non-root supervisord runs as anyway. */
  readonly ownUser: readonly string[];
}

/** The proxy's variables, each with the value the configuration resolved, in table order. */
export function proxyEntries(config: Config): LineEntry[] {
  return VARIABLES.filter((v) => v.proxy !== undefined).map((v) => ({
    name: v.proxy ?? v.name, value: config.text[v.name], variable: v.name, secret: v.secret === true,
  }));
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

/**
 * Renders `template` for `config`, for a supervisord that runs as `euid` (when given); throws 78 with
 * every problem: the section, values, and references.
 */
export function render(template: string, config: Config, euid?: number): Rendered {
  const lines = splitLines(template);
  const section = findSection(lines, PROGRAM_SECTION);
  const entries = proxyEntries(config);
  const built = environmentLine(entries);
  const problems = 'problems' in built ? [...built.problems] : [];
  if (section === undefined) problems.push(`the supervisord template has no [${PROGRAM_SECTION}] section`);
  if (section === undefined || 'problems' in built) throw new BootstrapError(EXIT.CONFIG, problems);

  const { lines: withLine, added } = setOption(lines, section, 'environment', built.line);
  const { lines: rendered, removed: ownUser } = euid === undefined ? { lines: withLine, removed: [] } : withoutOwnUid(withLine, config.env, euid);
  const text = joinLines(rendered);
  const refs = percentReferences(text);
  const references = [...new Set(refs.names.filter((n) => n.startsWith('ENV_')).map((n) => n.slice(4)))];
  const missing = references.filter((name) => config.env[name] === undefined);
  problems.push(...refs.problems);
  for (const name of missing) {
    problems.push(`the supervisord config refers to %(ENV_${name})s, but ${name} is not set in the environment supervisord starts with`);
  }
  if (problems.length > 0) throw new BootstrapError(EXIT.CONFIG, problems);
  return { text, line: built.line, shown: built.shown, added, entries, secret: entries.some((e) => e.secret === true), references, ownUser };
}
