// How supervisord reads an environment= line, ported from CPython's shlex and supervisor's datatypes. Pure.
//
// supervisor 4.2 (Debian, Alpine) splits the line with shlex in non-POSIX mode: no escapes, and a
// quoted string keeps its quotes until every leading and trailing quote character is stripped.
// Newer releases are expected to use POSIX mode, where a backslash escapes inside double quotes.
// render-config only writes lines both read the same, and --check reads them back both ways.

/** shlex's word characters in both modes; POSIX mode adds LATIN1_WORD. */
export const ASCII_WORD = 'abcdfeghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';
const LATIN1_WORD = 'ßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ';
/** supervisor adds these to shlex's word characters for environment=. */
export const SUPERVISOR_WORD = '/.+-():';
export const WHITESPACE = ' \t\r\n';
export const QUOTES = '\'"';

/** Raised where Python's shlex raises ValueError. */
export class ShlexError extends Error {}

/** The tokens CPython's `list(shlex.shlex(text, posix=posix))` gives, with supervisor's word characters. */
export function shlexTokens(text: string, posix: boolean): string[] {
  const wordchars = ASCII_WORD + (posix ? LATIN1_WORD : '') + SUPERVISOR_WORD;
  // Python reads a str by code points, as spreading a string does.
  // eslint-disable-next-line @typescript-eslint/no-misused-spread
  const chars = [...text];
  let at = 0;
  let state: string | undefined = ' ';
  const pushback: string[] = [];
  const tokens: string[] = [];

  const readToken = (): string | undefined => {
    let quoted = false;
    let escapedState = ' ';
    let token = '';
    for (;;) {
      const next = at < chars.length ? chars[at++] ?? '' : '';
      if (state === undefined) {
        token = '';
        break;
      } else if (state === ' ') {
        if (next === '') {
          state = undefined;
          break;
        } else if (WHITESPACE.includes(next)) {
          if (token !== '' || (posix && quoted)) break;
        } else if (next === '#') {
          while (at < chars.length && chars[at] !== '\n') at++;
          at++;
        } else if (posix && next === '\\') {
          escapedState = 'a';
          state = next;
        } else if (wordchars.includes(next)) {
          token = next;
          state = 'a';
        } else if (QUOTES.includes(next)) {
          if (!posix) token = next;
          state = next;
        } else {
          token = next;
          if (token !== '' || (posix && quoted)) break;
        }
      } else if (QUOTES.includes(state)) {
        quoted = true;
        if (next === '') throw new ShlexError('No closing quotation');
        if (next === state) {
          if (!posix) {
            token += next;
            state = ' ';
            break;
          }
          state = 'a';
        } else if (posix && next === '\\' && state === '"') {
          escapedState = state;
          state = next;
        } else {
          token += next;
        }
      } else if (state === '\\') {
        if (next === '') throw new ShlexError('No escaped character');
        // In POSIX shells only the quote itself or the escape character may be escaped within quotes.
        if (QUOTES.includes(escapedState) && next !== state && next !== escapedState) token += state;
        token += next;
        state = escapedState;
      } else {
        // state 'a': in a word
        if (next === '') {
          state = undefined;
          break;
        } else if (WHITESPACE.includes(next)) {
          state = ' ';
          if (token !== '' || (posix && quoted)) break;
        } else if (next === '#') {
          while (at < chars.length && chars[at] !== '\n') at++;
          at++;
          if (posix) {
            state = ' ';
            if (token !== '' || quoted) break;
          }
        } else if (posix && QUOTES.includes(next)) {
          state = next;
        } else if (posix && next === '\\') {
          escapedState = 'a';
          state = next;
        } else if (wordchars.includes(next) || QUOTES.includes(next)) {
          token += next;
        } else {
          pushback.unshift(next);
          state = ' ';
          if (token !== '' || (posix && quoted)) break;
        }
      }
    }
    return posix && !quoted && token === '' ? undefined : token;
  };

  const eof = posix ? undefined : '';
  for (;;) {
    const token = pushback.length > 0 ? pushback.shift() : readToken();
    if (token === eof) return tokens;
    tokens.push(token ?? '');
  }
}

/** supervisor's dict_of_key_value_pairs: KEY = value, then any one separator token, and so on. */
export function keyValuePairs(text: string, posix: boolean): Map<string, string> {
  const tokens = shlexTokens(text, posix);
  const pairs = new Map<string, string>();
  for (let i = 0; i < tokens.length; i += 4) {
    const [key, eq, value] = tokens.slice(i, i + 3);
    if (key === undefined || eq !== '=' || value === undefined) {
      throw new ShlexError(`Unexpected end of key/value pairs in value '${text}'`);
    }
    pairs.set(key, value.replace(/^['"]+|['"]+$/g, ''));
  }
  return pairs;
}
