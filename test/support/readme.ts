// The README's generated configuration table: read it, or write it with `npm run docs`.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { markdownTable } from '../../src/1-config/docs.ts';
import { ROOT } from './root.ts';

export const README = join(ROOT, 'README.md');
const START = /<!-- config-table:start[^>]*-->\n/;
const END = '<!-- config-table:end -->';

/** Where the README's table lies: between the end of the start marker and the end marker. */
function tableBounds(text: string): [number, number] {
  const start = START.exec(text);
  const end = text.indexOf(END);
  if (start === null || end < 0) throw new Error('README.md has no config-table markers');
  return [start.index + start[0].length, end];
}

/** The README's text between the config-table markers. */
export function readmeTable(text = readFileSync(README, 'utf8')): string {
  const [from, to] = tableBounds(text);
  return text.slice(from, to);
}

if (process.argv[1] === import.meta.filename) {
  const text = readFileSync(README, 'utf8');
  const [from, to] = tableBounds(text);
  writeFileSync(README, text.slice(0, from) + markdownTable() + text.slice(to));
}
