// `hls-bootstrap env`: the resolved configuration as shell, dotenv or JSON text.

import { BootstrapError, EXIT } from '../errors.ts';
import type { Config } from './resolve.ts';
import { VARIABLES } from './variables.ts';

export const ENV_FORMATS = ['shell', 'dotenv', 'json'] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

/** What a hidden secret reads as in shell and dotenv output: a comment, so eval never sets it wrong. */
const HIDDEN = '<hidden; pass --show-secrets to print it>';

/** Quotes `value` for a POSIX shell: single quotes, each `'` written as `'\''`. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * Quotes `value` so that dotenv's own parser gives it back unchanged, or returns undefined
 * when none of its quotings can (it has no escape for its quote characters, and reads CR as LF).
 */
export function dotenvQuote(value: string, parse: (text: string) => Record<string, string>): string | undefined {
  const candidates = [`'${value}'`, `\`${value}\``, `"${value.replaceAll('\n', '\\n').replaceAll('\r', '\\r')}"`];
  // Each candidate is checked with the parser that will read it, rather than a model of it.
  return candidates.find((quoted) => parse(`K=${quoted}\n`).K === value);
}

/** The resolved configuration in `format`; secrets hidden unless `showSecrets`. */
export async function formatEnv(config: Config, format: EnvFormat, showSecrets: boolean): Promise<string> {
  // dotenv loads node:crypto, a tenth of a start-up: only the dotenv format pays for it.
  const { parse } = format === 'dotenv' ? await import('dotenv') : { parse: undefined };
  const rows = VARIABLES.map((v) => ({ name: v.name, value: config.text[v.name], hidden: v.secret === true && !showSecrets }));
  if (format === 'json') {
    const object = Object.fromEntries(rows.map((r) => [r.name, r.hidden ? null : r.value]));
    return `${JSON.stringify(object, null, 2)}\n`;
  }
  const lines = rows.map(({ name, value, hidden }) => {
    if (hidden) return format === 'shell' ? `# export ${name}=${HIDDEN}` : `# ${name}=${HIDDEN}`;
    if (format === 'shell') return `export ${name}=${shellQuote(value)}`;
    const quoted = parse === undefined ? undefined : dotenvQuote(value, parse);
    if (quoted === undefined) {
      throw new BootstrapError(EXIT.CONFIG, `${name} cannot be written as a dotenv value: it holds both quote `
        + 'characters dotenv knows, or a carriage return; use --format shell or --format json');
    }
    return `${name}=${quoted}`;
  });
  return `${lines.join('\n')}\n`;
}
