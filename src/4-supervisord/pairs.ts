// Splits an environment= value into its KEY=value pairs where supervisord 4.2 splits them, keeping each pair's exact text. Pure.
//
// The template's line is edited, not rewritten: the keys hls-bootstrap owns are set, and every other
// pair stays byte for byte, %(ENV_X)s references included. So the value is split as written, before
// supervisord's % expansion, with each reference read as the word it expands to.

import { ASCII_WORD, QUOTES, SUPERVISOR_WORD, ShlexError, WHITESPACE } from './shlex.ts';

const WORD = ASCII_WORD + SUPERVISOR_WORD;

/** One token of non-POSIX shlex, with where it lies in the text. */
interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** One KEY=value pair as written. */
export interface Pair {
  readonly key: string;
  /** From the key's first character to the value's last. */
  readonly text: string;
}

/** A value split into pairs; joining lead, pairs and separators in turn, then tail, gives it back. */
export interface PairList {
  readonly lead: string;
  readonly pairs: readonly Pair[];
  /** What lies between pair i and pair i+1: the separator token and any whitespace. */
  readonly separators: readonly string[];
  readonly tail: string;
}

/** CPython's non-POSIX shlex tokens, with positions (its quirks included: a comment inside a word continues it). */
export function tokenSpans(text: string): Token[] {
  const tokens: Token[] = [];
  const skipComment = (at: number): number => {
    const newline = text.indexOf('\n', at);
    return newline < 0 ? text.length : newline + 1;
  };
  let at = 0;
  while (at < text.length) {
    const char = String.fromCodePoint(text.codePointAt(at) ?? 0);
    if (WHITESPACE.includes(char)) {
      at += 1;
    } else if (char === '#') {
      at = skipComment(at);
    } else if (QUOTES.includes(char)) {
      const close = text.indexOf(char, at + 1);
      if (close < 0) throw new ShlexError('No closing quotation');
      tokens.push({ text: text.slice(at, close + 1), start: at, end: close + 1 });
      at = close + 1;
    } else if (WORD.includes(char)) {
      const start = at;
      let word = '';
      while (at < text.length) {
        const next = text.charAt(at);
        if (WORD.includes(next) || QUOTES.includes(next)) {
          word += next;
          at += 1;
        } else if (next === '#') {
          at = skipComment(at);
        } else {
          break;
        }
      }
      tokens.push({ text: word, start, end: at });
    } else {
      tokens.push({ text: char, start: at, end: at + char.length });
      at += char.length;
    }
  }
  return tokens;
}

/** Each %(name)s as a word of the same length: how it reads once expanded to a plain value. */
function masked(value: string): string {
  return value.replace(/%\([^)]*\)[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]/g, (reference) => 'x'.repeat(reference.length));
}

/** Splits `value` (an environment= value as written) as supervisor's dict_of_key_value_pairs does: KEY, =, value, separator. */
export function splitPairs(value: string): PairList {
  const tokens = tokenSpans(masked(value));
  const pairs: Pair[] = [];
  const separators: string[] = [];
  let previousEnd = 0;
  for (let i = 0; i < tokens.length; i += 4) {
    const [key, eq, val] = tokens.slice(i, i + 3);
    if (key === undefined || eq?.text !== '=' || val === undefined) throw new ShlexError(`Unexpected end of key/value pairs in value '${value}'`);
    if (i > 0) separators.push(value.slice(previousEnd, key.start));
    pairs.push({ key: value.slice(key.start, key.end), text: value.slice(key.start, val.end) });
    previousEnd = val.end;
  }
  const first = tokens[0]?.start ?? value.length;
  return { lead: value.slice(0, first), pairs, separators, tail: value.slice(pairs.length > 0 ? previousEnd : first) };
}

/** A pair to set: its text as written in the line, and as shown with secrets hidden. */
export interface Setting {
  readonly text: string;
  readonly shown: string;
}

/** The value with `settings` applied: each set where its key is, the rest appended; every other pair as it was. */
export function editPairs(list: PairList, settings: ReadonlyMap<string, Setting>): { text: string; shown: string; appended: string[]; kept: string[] } {
  let text = list.lead;
  let shown = list.lead;
  const kept = new Set<string>();
  list.pairs.forEach((pair, i) => {
    const setting = settings.get(pair.key);
    if (setting === undefined) kept.add(pair.key);
    const separator = list.separators[i] ?? '';
    text += (setting?.text ?? pair.text) + separator;
    shown += (setting?.shown ?? pair.text) + separator;
  });
  const present = new Set(list.pairs.map((p) => p.key));
  const appended = [...settings.keys()].filter((key) => !present.has(key));
  if (appended.length === 0) return { text: text + list.tail, shown: shown + list.tail, appended, kept: [...kept] };
  const add = (show: boolean): string => appended.map((key) => (show ? settings.get(key)?.shown : settings.get(key)?.text) ?? '').join(',');
  // A trailing separator the line already has serves the first appended pair.
  const [joiner, end] = list.pairs.length === 0 ? ['', list.tail] : list.tail.trim() === '' ? [',', list.tail] : [list.tail, ''];
  return { text: `${text}${joiner}${add(false)}${end}`, shown: `${shown}${joiner}${add(true)}${end}`, appended, kept: [...kept] };
}
