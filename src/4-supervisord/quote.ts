// Writes values into supervisord's environment= line so that the program receives them exactly, or refuses. Pure.
//
// What supervisord does with the line, measured on Debian's supervisor 4.2.5:
// - the ini reader cuts a comment at `;` or `#` after whitespace, even inside quotes, and ends
//   the line at a line break;
// - `%` formatting runs over the whole line first (`%%` for a literal %);
// - shlex then splits it: non-POSIX in 4.2 (no escapes), POSIX in newer releases (backslash
//   escapes `"` and `\` inside double quotes); every leading and trailing quote is stripped.
// So: single or double quotes, whichever the value does not hold, and refusal for the rest.

import { PY_SPACE } from './ini.ts';

/** A value as written in the line, or why it cannot be. */
export type Quoted = { readonly text: string } | { readonly refused: string };

/** Whitespace before an inline comment, as the ini reader sees it (Python's str.isspace). */
const SPACE_BEFORE_COMMENT = new RegExp(`[${PY_SPACE}][;#]`, 'u');
/**
 * What ends the ini line (Python reads the file with universal newlines: \n, \r), and NUL, which no
 * environment variable holds. Every other control character, U+0085 and U+2028 included, reaches
 * the program as it is: measured with supervisord 4.2.5.
 */
// eslint-disable-next-line no-control-regex
const LINE_BREAKING = /[\x00\n\r]/u;

/** A character as a message names it: printable ASCII as itself, anything else by its code point. */
function describe(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (char === ' ') return 'a space';
  return code > 0x20 && code < 0x7f ? `"${char}"` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** True when POSIX shlex reads `\` in double quotes as this value means it: never before `\` or `"`, never last. */
function backslashesSurviveDoubleQuotes(value: string): boolean {
  for (let i = value.indexOf('\\'); i >= 0; i = value.indexOf('\\', i + 1)) {
    const next = value[i + 1];
    if (next === undefined || next === '\\' || next === '"') return false;
  }
  return true;
}

/** Quotes `value` for environment=, with every `%` doubled; or says which character makes that impossible. */
export function quoteValue(value: string): Quoted {
  const breaking = LINE_BREAKING.exec(value);
  if (breaking !== null) return { refused: `it holds a control character (${describe(breaking[0])}), which would end or cut supervisord's line` };
  const comment = SPACE_BEFORE_COMMENT.exec(value);
  if (comment !== null) {
    return { refused: `it holds "${comment[0].at(-1) ?? ''}" after ${describe(comment[0].charAt(0))}, which supervisord's ini reader cuts off as a comment` };
  }
  const edge = /^['"]|['"]$/.exec(value);
  if (edge !== null) return { refused: `it starts or ends with a quote character (${edge[0]}), which supervisord strips` };
  const single = value.includes("'");
  const double = value.includes('"');
  if (single && double) return { refused: 'it holds both quote characters (\' and "), and supervisord has no escape for either' };
  let quoted: string;
  if (!double && backslashesSurviveDoubleQuotes(value)) quoted = `"${value}"`;
  else if (!single) quoted = `'${value}'`;
  else return { refused: 'it holds \' and a backslash before a backslash or at its end, which supervisord releases read differently' };
  return { text: quoted.replaceAll('%', '%%') };
}

export interface LineEntry {
  /** The name the program sees. */
  readonly name: string;
  readonly value: string;
  /** The configuration variable the value comes from, for messages. */
  readonly variable: string;
  readonly secret?: boolean;
}

/** Each entry as `NAME=value` for the line, and as shown with secrets hidden; or one problem per value that cannot be carried. */
export function quotedPairs(entries: readonly LineEntry[]): { pairs: Map<string, { text: string; shown: string }> } | { problems: string[] } {
  const pairs = new Map<string, { text: string; shown: string }>();
  const problems: string[] = [];
  for (const entry of entries) {
    const quoted = quoteValue(entry.value);
    if ('refused' in quoted) {
      problems.push(`${entry.variable} cannot be passed to m3u-proxy through supervisord exactly: ${quoted.refused}`);
      continue;
    }
    pairs.set(entry.name, { text: `${entry.name}=${quoted.text}`, shown: `${entry.name}=${entry.secret === true ? '"<hidden>"' : quoted.text}` });
  }
  return problems.length > 0 ? { problems } : { pairs };
}
