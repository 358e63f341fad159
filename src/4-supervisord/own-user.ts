// Not root, supervisord runs every program as itself: a user= that names its own uid is left out. Pure.
// supervisord resolves a numeric user= through the user database and refuses a uid without an entry,
// which is what `docker run --user 12345` gives; left out, the line changes nothing else.

import { envNames, expand } from './expand.ts';
import { effectiveOption, findOptions, optionValue, sectionName, type Line } from './ini.ts';

/**
 * Removes each section's `user=` whose value, expanded, is `euid` as a number, when `euid` is not root.
 * Returns the lines and, for the log, each removed option as "[section] user=...".
 */
export function withoutOwnUid(lines: readonly Line[], env: Readonly<Record<string, string>>, euid: number): { lines: Line[]; removed: string[] } {
  if (euid === 0) return { lines: [...lines], removed: [] };
  const sections = lines.map(sectionName).filter((name): name is string => name !== undefined);
  const drop = new Set<number>();
  const removed: string[] = [];
  for (const name of new Set(sections)) {
    // The user= supervisord uses is the last one of the section, wherever it is written; every
    // user= of the section goes with it, or an earlier one would take its place.
    const option = effectiveOption(lines, name, 'user')?.option;
    const value = option === undefined ? '' : expand(optionValue(lines, option), envNames(env)).text;
    if (option === undefined || !/^\d+$/.test(value) || Number(value) !== euid) continue;
    for (const span of findOptions(lines, name, 'user')) {
      for (let i = span.start; i < span.end; i++) drop.add(i);
      removed.push(`[${name}] ${(lines[span.start]?.text ?? '').trim()}`);
    }
  }
  return { lines: lines.filter((_line, i) => !drop.has(i)), removed };
}
