// Seeded random text for round-trip tests; the seed is printed on failure so a run can be repeated.

/** mulberry32: a small, fast PRNG; the same seed always gives the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Characters that trouble shells, dotenv and supervisord, and some that should not. */
export const HARD_CHARACTERS = [...' \t"\'`$\\%#;,=:!&|<>(){}[]*?~^\n/.-_'.split(''), 'é', 'ü', 'ß', '中', '🎬', 'a', 'Z', '0', '9'];

/** The seed for this run: HLS_TEST_SEED when set, else a fresh one. */
export function seed(): number {
  const given = process.env.HLS_TEST_SEED;
  return given === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(given);
}

/** `count` strings of up to `maxLength` characters drawn from `alphabet`. */
export function randomTexts(seedValue: number, count: number, maxLength: number, alphabet = HARD_CHARACTERS): string[] {
  const next = prng(seedValue);
  return Array.from({ length: count }, () => {
    const length = Math.floor(next() * (maxLength + 1));
    return Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  });
}
