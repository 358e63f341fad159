// Reads and edits supervisord's ini file line by line, as Python's configparser reads it, keeping every other byte. Pure.

export interface Line {
  /** The line without its end of line. */
  readonly text: string;
  /** "\n", "\r\n", or "" for a last line without one. */
  readonly eol: string;
}

export function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  const re = /([^\n]*?)(\r?\n|$)/gy;
  for (let match = re.exec(text); match !== null && match.index < text.length; match = re.exec(text)) {
    lines.push({ text: match[1] ?? '', eol: match[2] ?? '' });
  }
  return lines;
}

export function joinLines(lines: readonly Line[]): string {
  return lines.map((l) => l.text + l.eol).join('');
}

/**
 * The line without an inline comment: configparser (with supervisor's `;` and `#` inline
 * prefixes) cuts at a prefix that starts the line or follows whitespace.
 */
export function withoutComment(text: string): string {
  // \x1c-\x1f and \x85 are whitespace to Python's str.isspace, which configparser uses.
  // eslint-disable-next-line no-control-regex
  const match = /(^|[\s\x1c-\x1f\x85])[;#]/u.exec(text);
  return match === null ? text : text.slice(0, match.index + (match[1] ?? '').length);
}

const isBlank = (line: Line): boolean => withoutComment(line.text).trim() === '';
const isIndented = (line: Line): boolean => /^\s/.test(line.text) && !isBlank(line);

/** The section name if `line` is a section header such as `[program:m3u-proxy]`. */
export function sectionName(line: Line): string | undefined {
  if (/^\s/.test(line.text)) return undefined;
  return /^\[(.+)\]$/.exec(withoutComment(line.text).trim())?.[1];
}

export interface Span {
  /** First line, and one past the last. */
  readonly start: number;
  readonly end: number;
}

/** Where section `name` lies: its header, and the lines up to the next header. */
export function findSection(lines: readonly Line[], name: string): Span | undefined {
  const start = lines.findIndex((l) => sectionName(l) === name);
  if (start < 0) return undefined;
  const next = lines.findIndex((l, i) => i > start && sectionName(l) !== undefined);
  return { start, end: next < 0 ? lines.length : next };
}

/** The option's key if `line` starts one (configparser reads keys in any case and `=` or `:`). */
export function optionKey(line: Line): string | undefined {
  if (/^\s/.test(line.text) || isBlank(line)) return undefined;
  return /^([^=:]*?)\s*[=:]/.exec(line.text)?.[1]?.trim().toLowerCase();
}

/** Where option `key` of `section` lies, continuation lines included. */
export function findOption(lines: readonly Line[], section: Span, key: string): Span | undefined {
  const line = (i: number): Line => lines[i] ?? { text: '', eol: '' };
  for (let i = section.start + 1; i < section.end; i++) {
    if (optionKey(line(i)) !== key) continue;
    // configparser: a line indented deeper than the option continues its value; blank and
    // comment lines in between neither continue nor end it.
    let end = i + 1;
    for (let j = i + 1; j < section.end; j++) {
      if (isBlank(line(j))) continue;
      if (!isIndented(line(j))) break;
      end = j + 1;
    }
    return { start: i, end };
  }
  return undefined;
}

/** The value of an option: its first line after the delimiter, with continuation lines joined by newlines. */
export function optionValue(lines: readonly Line[], span: Span): string {
  const parts = lines.slice(span.start, span.end).map((l) => withoutComment(l.text).trim()).filter((t) => t !== '');
  const first = (parts[0] ?? '').replace(/^[^=:]*[=:]\s*/, '');
  return [first, ...parts.slice(1)].join('\n');
}

/** The end of line this file uses: that of its first line, else "\n". */
function fileEol(lines: readonly Line[]): string {
  return lines.find((l) => l.eol !== '')?.eol ?? '\n';
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
  while (at > section.start + 1 && isBlank(lines[at - 1] ?? { text: '', eol: '' })) at--;
  const before = lines.slice(0, at).map((l, i) => (i === at - 1 && l.eol === '' ? { ...l, eol } : l));
  const after = lines.slice(at);
  return { lines: [...before, { text, eol: after.length > 0 || lines.at(-1)?.eol !== '' ? eol : '' }, ...after], added: true };
}
