// Unit tests of `env` output quoting: shell and dotenv text must give back every value unchanged.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { parse } from 'dotenv';
import { dotenvQuote, shellQuote } from '../../src/1-config/env-format.ts';
import { randomTexts, seed } from '../support/random.ts';

const FIXED = ['', 'plain', 'with space', "it's", 'say "hi"', '$HOME and $(id) and `id`', 'back\\slash\\', 'two\nlines\n',
  "'", "''", '\\n is not a newline', 'tab\there', 'é中🎬', '#not a comment', 'trailing space ', ' leading'];

test('shell quoting round-trips through sh, for fixed and random values', () => {
  const s = seed();
  const values = [...FIXED, ...randomTexts(s, 300, 40)];
  const script = values.map((v, i) => `export V${i}=${shellQuote(v)}`).join('\n')
    + `\nfor i in $(seq 0 ${values.length - 1}); do eval "printf '%s\\0' \\"\\$V$i\\""; done`;
  const result = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(result.stdout.split('\0').slice(0, -1), values, `seed ${s}`);
});

test('dotenv quoting round-trips through dotenv.parse, or refuses only what no quoting carries', () => {
  const s = seed();
  const refused: string[] = [];
  for (const value of [...FIXED, ...randomTexts(s, 2000, 12)]) {
    const quoted = dotenvQuote(value, parse);
    if (quoted === undefined) refused.push(value);
    else assert.equal(parse(`K=${quoted}\n`).K, value, `value ${JSON.stringify(value)} as ${quoted} (seed ${s})`);
  }
  for (const value of FIXED) assert.ok(!refused.includes(value), `fixed value refused: ${JSON.stringify(value)}`);
  // dotenv has no escape for its own quotes: only values holding all three, and then some, are refused.
  for (const value of refused) assert.ok(value.includes('"') && value.includes("'") && value.includes('`'), `${JSON.stringify(value)} (seed ${s})`);
});

test('a carriage return survives in double quotes; all three quotes and a # do not', () => {
  assert.equal(dotenvQuote('a\rb', parse), '"a\\rb"');
  assert.equal(dotenvQuote('#\'`"', parse), undefined);
});
