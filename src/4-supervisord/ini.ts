// Reads and edits supervisord's ini file line by line, as Python's configparser reads it, keeping every other byte. Pure.
//
// supervisor 4.2 reads its config with configparser (inline comments `;` and `#`, strict=False): a
// line indented deeper than its option continues it, options may be indented themselves, a section
// or an option written twice is merged with the later one winning, and the file's lines end at
// `\n`, `\r\n` or a lone `\r` (Python's universal newlines).

export interface Line {
  /** The line without its end of line. */
  readonly text: string;
  /** "\n", "\r\n", "\r", or "" for a last line without one. */
  readonly eol: string;
}

export function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  const re = /([^\r\n]*)(\r\n|\r|\n|$)/gy;
  for (let match = re.exec(text); match !== null && match.index < text.length; match = re.exec(text)) {
    lines.push({ text: match[1] ?? '', eol: match[2] ?? '' });
  }
  return lines;
}

export function joinLines(lines: readonly Line[]): string {
  return lines.map((l) => l.text + l.eol).join('');
}

/**
 * Python's whitespace (str.isspace, and `\s` of its re): what configparser strips and what must
 * precede an inline comment. Not JavaScript's `\s`, which also holds U+FEFF and lacks \x1c-\x1f and \x85.
 */
export const PY_SPACE = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const EDGES = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu');
const INDENT = new RegExp(`^[${PY_SPACE}]*`, 'u');
const COMMENT = new RegExp(`(^|[${PY_SPACE}])[;#]`, 'u');
const OPTION = new RegExp(`^(.*?)[${PY_SPACE}]*[=:]`, 'u');

/** Python's str.strip(). */
export function pyStrip(text: string): string {
  return text.replace(EDGES, '');
}

/**
 * The line without an inline comment: configparser (with supervisor's `;` and `#` inline
 * prefixes) cuts at a prefix that starts the line or follows whitespace.
 */
export function withoutComment(text: string): string {
  const match = COMMENT.exec(text);
  return match === null ? text : text.slice(0, match.index + (match[1] ?? '').length);
}

/** The line as configparser reads it: no comment, no surrounding whitespace; empty for a blank or comment line. */
const content = (line: Line): string => pyStrip(withoutComment(line.text));
const indentOf = (line: Line): number => INDENT.exec(line.text)?.[0].length ?? 0;

/**
 * The section name if `line` is a section header such as `[program:m3u-proxy]`: configparser's
 * `\[(?P<header>.+)\]`, matched from the start, so that text after the last `]` is ignored. A header
 * must start the line here: configparser takes an indented one for a continuation after an option.
 */
export function sectionName(line: Line): string | undefined {
  if (indentOf(line) > 0) return undefined;
  return /^\[([^\n]+)\]/u.exec(content(line))?.[1];
}

export interface Span {
  /** First line, and one past the last. */
  readonly start: number;
  readonly end: number;
}

/** Every place section `name` is written, in file order: its header, and the lines up to the next header. */
export function findSections(lines: readonly Line[], name: string): Span[] {
  const spans: Span[] = [];
  let open: number | undefined;
  lines.forEach((line, i) => {
    const header = sectionName(line);
    if (header === undefined) return;
    if (open !== undefined) spans.push({ start: open, end: i });
    open = header === name ? i : undefined;
  });
  if (open !== undefined) spans.push({ start: open, end: lines.length });
  return spans;
}

/** Where section `name` is first written. */
export function findSection(lines: readonly Line[], name: string): Span | undefined {
  return findSections(lines, name)[0];
}

/** The option's key if `content` (a line as configparser reads it) starts one: any case, `=` or `:`. */
function keyOf(text: string): string | undefined {
  return OPTION.exec(text)?.[1]?.toLowerCase();
}

/** Each option of a section, with its continuation lines, in order. */
function optionsIn(lines: readonly Line[], section: Span): { key: string | undefined; span: Span }[] {
  const options: { key: string | undefined; span: Span; indent: number }[] = [];
  for (let i = section.start + 1; i < section.end; i++) {
    const line = lines[i] ?? { text: '', eol: '' };
    // Blank and comment lines neither continue an option nor end it.
    if (content(line) === '') continue;
    const last = options.at(-1);
    // configparser: a line indented deeper than the option's own line continues its value.
    if (last !== undefined && indentOf(line) > last.indent) {
      last.span = { start: last.span.start, end: i + 1 };
      continue;
    }
    options.push({ key: keyOf(content(line)), span: { start: i, end: i + 1 }, indent: indentOf(line) });
  }
  return options;
}

/** Where option `key` of this section lies, continuation lines included: the last one, which configparser keeps. */
export function findOption(lines: readonly Line[], section: Span, key: string): Span | undefined {
  return optionsIn(lines, section).findLast((o) => o.key === key)?.span;
}

/** Every place option `key` is written in section `name`, in every place the section is written. */
export function findOptions(lines: readonly Line[], name: string, key: string): Span[] {
  return findSections(lines, name).flatMap((section) => optionsIn(lines, section).filter((o) => o.key === key).map((o) => o.span));
}

/**
 * The option supervisord uses: configparser merges a section written twice, and a later option
 * replaces an earlier one. Returns it with the part of the section that holds it (the last part
 * when none does); undefined when there is no such section.
 */
export function effectiveOption(lines: readonly Line[], name: string, key: string): { section: Span; option: Span | undefined } | undefined {
  const sections = findSections(lines, name);
  for (const section of sections.toReversed()) {
    const option = findOption(lines, section, key);
    if (option !== undefined) return { section, option };
  }
  const last = sections.at(-1);
  return last === undefined ? undefined : { section: last, option: undefined };
}

/** The value of an option: its first line after the delimiter, with continuation lines joined by newlines. */
export function optionValue(lines: readonly Line[], span: Span): string {
  const parts = lines.slice(span.start, span.end).map(content).filter((t) => t !== '');
  const first = pyStrip((parts[0] ?? '').replace(/^[^=:]*[=:]/, ''));
  return [first, ...parts.slice(1)].join('\n');
}

/** The end of line this file uses: that of its first line, else "\n". */
function fileEol(lines: readonly Line[]): string {
  return lines.find((l) => l.eol !== '')?.eol ?? '\n';
}

/**
 * What supervisord's configparser would refuse to read, one problem per line: a byte order mark,
 * an option before any section, a line that is neither a header, an option nor a continuation, an
 * option without a name; and an indented header, which it reads as a header only where no option
 * precedes it (hls-bootstrap does not follow it there).
 */
export function iniProblems(lines: readonly Line[]): string[] {
  const problems: string[] = [];
  const [first] = lines;
  let scanned = lines;
  if (first?.text.startsWith('\ufeff') === true) {
    problems.push('line 1 starts with a byte order mark (U+FEFF), which supervisord does not skip ("File contains no section headers"); save the file without it');
    scanned = [{ ...first, text: first.text.slice(1) }, ...lines.slice(1)];
  }
  let inSection = false;
  let option: number | undefined;
  scanned.forEach((line, i) => {
    const text = content(line);
    if (text === '' || (option !== undefined && indentOf(line) > option)) return;
    const where = `line ${i + 1} (${JSON.stringify(line.text.slice(0, 60))})`;
    if (/^\[[^\n]+\]/u.test(text)) {
      if (sectionName(line) === undefined) problems.push(`${where} is an indented section header; write it at the start of the line`);
      inSection = true;
      option = undefined;
      return;
    }
    if (!inSection) {
      // configparser stops at the first such line.
      problems.push(`${where} comes before any [section] header, which supervisord refuses`);
      inSection = true;
      return;
    }
    const key = keyOf(text);
    if (key === undefined) problems.push(`${where} is neither a [section] header, an option (key=value), a comment nor a continuation, which supervisord refuses`);
    else if (key === '') problems.push(`${where} is an option without a name, which supervisord refuses`);
    option = indentOf(line);
  });
  return problems;
}

/**
 * Sets option `key` of `section` to the single line `text` (such as "environment=..."): replaces
 * the option with its continuation lines, or adds it after the section's last option line.
 */
export function setOption(lines: readonly Line[], section: Span, key: string, text: string): { lines: Line[]; added: boolean } {
  const option = findOption(lines, section, key);
  const eol = fileEol(lines);
  if (option !== undefined) {
    const lastEol = lines[option.end - 1]?.eol ?? eol;
    return { lines: [...lines.slice(0, option.start), { text, eol: lastEol === '' ? '' : lastEol }, ...lines.slice(option.end)], added: false };
  }
  let at = section.end;
  while (at > section.start + 1 && content(lines[at - 1] ?? { text: '', eol: '' }) === '') at--;
  const before = lines.slice(0, at).map((l, i) => (i === at - 1 && l.eol === '' ? { ...l, eol } : l));
  const after = lines.slice(at);
  return { lines: [...before, { text, eol: after.length > 0 || lines.at(-1)?.eol !== '' ? eol : '' }, ...after], added: true };
}
