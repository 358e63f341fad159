// supervisord's % expansion of an option's value: %% as %, and %(name)s from the names it knows. Pure.

/** The names supervisord expands from its environment: ENV_X for each variable X. */
export function envNames(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [`ENV_${name}`, value]));
}

/** `value` as supervisord expands it from `names`; a %(name)s that `names` lacks stays as written, and is listed in `unknown`. */
export function expand(value: string, names: Readonly<Record<string, string | undefined>>): { text: string; unknown: string[] } {
  const unknown: string[] = [];
  const text = value.replace(/%%|%\(([^)]*)\)s/g, (match, name: string | undefined) => {
    if (name === undefined) return '%';
    const known = names[name];
    if (known === undefined) unknown.push(match);
    return known ?? match;
  });
  return { text, unknown };
}
