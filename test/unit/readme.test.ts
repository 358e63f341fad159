// The README documents what the code does: its configuration table and exit codes come from the code.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { markdownTable } from '../../src/1-config/docs.ts';
import { EXIT } from '../../src/errors.ts';
import { README, readmeTable } from '../support/readme.ts';

const text = readFileSync(README, 'utf8');

test('the configuration table is the one generated from the variable table (npm run docs rewrites it)', () => {
  assert.equal(readmeTable(text), markdownTable());
});

test('every exit code is documented', () => {
  const block = /<!-- exit-codes:start -->([\s\S]*)<!-- exit-codes:end -->/.exec(text)?.[1] ?? '';
  const documented = [...block.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
  assert.deepEqual(documented.sort((a, b) => a - b), Object.values(EXIT).sort((a, b) => a - b));
});

test('the README shows the two quick-start commands', () => {
  assert.match(text, /```sh\nnpm ci && npm start\nnpm test\n```/);
});
