// Help text and the README's configuration table, generated from the table so they cannot drift.

import { VARIABLES, defaultText, type Step, type Variable } from './variables.ts';

/** The variables a command reads, given the steps it runs. */
export function variablesFor(steps: readonly Step[]): Variable[] {
  return VARIABLES.filter((v) => v.steps.some((s) => steps.includes(s)));
}

/** The "Variables" section of a command's --help. */
export function variablesHelp(steps: readonly Step[]): string {
  const rows = variablesFor(steps);
  const width = Math.max(...rows.map((v) => v.name.length)) + 2;
  const lines = rows.map((v) => `  ${v.name.padEnd(width)}${v.meaning} (default: ${defaultText(v) || 'none'})`);
  return `\nVariables read (an unset or empty variable takes its default):\n${lines.join('\n')}\n`;
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
