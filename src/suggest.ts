// Did you mean: the command or variable a mistyped word was most likely meant to be, or none.

/**
 * Edits between `a` and `b`: insertions, deletions, substitutions, and swaps of two neighbours
 * (optimal string alignment), so that `evn` is one edit from `env`, as a typist sees it.
 */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (before[j - 2] ?? 0) + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The candidate at the smallest distance that `near` accepts; the first in `candidates` on a tie. */
function closest(word: string, candidates: readonly string[], near: (candidate: string, distance: number) => boolean): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(word, name);
    if (near(name, distance) && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/**
 * The command `word` was probably meant to be. Near means: the same in another case, one edit
 * per three letters of the longer word, or, for words of up to four letters, one substitution
 * or swap (so `rm` and `true` are not taken for `run`, but `rnu` is); or the word is made of
 * the command's own parts (`disk`, `render`, `disk-check`). Anything else is not near: it may
 * be a program the user meant to exec.
 */
export function closestCommand(word: string, commands: readonly string[]): string | undefined {
  const typed = word.toLowerCase();
  const parts = typed.split(/[-_]/).filter(Boolean);
  const byParts = commands.find((c) => c.includes('-') && parts.length > 0 && parts.every((p) => p.length >= 3 && c.split('-').includes(p)));
  return closest(typed, commands, (name, distance) => {
    const longer = Math.max(typed.length, name.length);
    if (longer <= 4) return distance <= 1 && typed.length === name.length;
    return distance <= Math.floor(longer / 3);
  }) ?? byParts;
}

/** The prefixes of the table's variables: a name with one of them may be a misspelt variable. */
export const FAMILIES: readonly string[] = ['HLS_', 'M3U_', 'WWW', 'SUPERVISOR', 'EXEC_', 'NETWORK_', 'BROADCAST_'];

/** A name without case or underscores, so that `hls_temp_dir` and `HLS_TEMPDIR` both read as HLS_TEMP_DIR. */
function shape(name: string): string {
  return name.toUpperCase().replaceAll('_', '');
}

/**
 * The known variable that `name`, which is not one, was probably meant to be; undefined when
 * `name` is known, outside the families, or not near enough. Near is deliberately tight, since a
 * container's environment holds many variables of these families that hls-bootstrap does not
 * read (M3U_PROXY_PUBLIC_URL, SUPERVISOR_PHP_COMMAND): the same letters in
 * another case or without underscores, or one edit (a doubled, missing, wrong or swapped letter),
 * or two in a name of twelve letters or more.
 */
export function closestVariable(name: string, known: readonly string[]): string | undefined {
  if (known.includes(name)) return undefined;
  const upper = name.toUpperCase();
  if (!FAMILIES.some((family) => upper.startsWith(family))) return undefined;
  const typed = shape(name);
  const shapes = known.map(shape);
  const found = closest(typed, shapes, (candidate, distance) =>
    distance <= 1 || (distance === 2 && Math.min(typed.length, candidate.length) >= 12));
  return found === undefined ? undefined : known[shapes.indexOf(found)];
}
