// Help text and the README's configuration table, generated from the table so they cannot drift.

import { VARIABLES, defaultText, type Step, type Variable } from './variables.ts';

/** The variables a command reads, given the steps it runs: those tagged with one of them. */
export function variablesFor(steps: readonly Step[]): Variable[] {
  return VARIABLES.filter((v) => v.steps.some((s) => steps.includes(s)));
}

/** Every tag the table uses, so that a command reading "everything" follows new tags too. */
export function allSteps(): Step[] {
  return [...new Set(VARIABLES.flatMap((v) => v.steps))];
}

/** `text` broken at spaces into lines of at most `width` characters (a longer word keeps a line to itself). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** What an invalid variable does to the command: its exit, in words. */
export type InvalidMeans = 'stops it with exit 78' | 'makes it UNKNOWN';

/**
 * The variables part of a command's --help, `width` columns wide: the variables it uses, each
 * with its meaning and default, then the names of the others, which it checks all the same,
 * since every command resolves the whole table before it starts.
 */
export function variablesHelp(steps: readonly Step[], width = 80, invalid: InvalidMeans = 'stops it with exit 78'): string {
  const used = variablesFor(steps);
  const others = VARIABLES.filter((v) => !used.includes(v)).map((v) => v.name);
  // Names in a column beside their text; on a narrow terminal, each name above its text, so
  // that the longest default (a path of some 40 characters) still fits.
  const beside = Math.max(...used.map((v) => v.name.length)) + 4;
  const column = width - beside >= 40 ? beside : 6;
  const rows = used.flatMap((v) => {
    const lines = wrap(`${v.meaning} (default: ${defaultText(v) || 'none'})`, width - column).map((line) => `${' '.repeat(column)}${line}`);
    const name = `  ${v.name}`;
    if (column < name.length + 2) return [name, ...lines];
    const [first = '', ...rest] = lines;
    return [name + first.slice(name.length), ...rest];
  });
  const text = ['', ...wrap('Variables it uses (an unset or empty one takes its default):', width), ...rows];
  if (others.length > 0) {
    text.push('', ...wrap(`It checks every other variable too; an invalid one ${invalid}:`, width),
      ...wrap(others.join(', '), width - 2).map((line) => `  ${line}`));
  }
  return `${text.join('\n')}\n`;
}

/** The README's configuration table, in Markdown. */
export function markdownTable(): string {
  const cell = (text: string): string => text.replaceAll('|', '\\|');
  const lines = [
    '| variable | default | accepted | meaning | proxy sees |',
    '| --- | --- | --- | --- | --- |',
    ...VARIABLES.map((v) => {
      const fixed = typeof v.default === 'string' && v.defaultText === undefined;
      const shown = fixed ? `\`${defaultText(v)}\`` : defaultText(v);
      const aliases = (v.proxyAliases ?? []).map((a) => `, and \`${a}\` where the template has it`).join('');
      const proxy = v.proxy === undefined ? '' : `\`${v.proxy}\`${aliases}`;
      return `| \`${v.name}\` | ${cell(shown)} | ${cell(v.accepted)} | ${cell(v.meaning)} | ${proxy} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}
