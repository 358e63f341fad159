// The variables part of each command's help, generated from the table's tags, at any width.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allSteps, variablesHelp, wrap } from '../../src/1-config/docs.ts';
import { VARIABLES } from '../../src/1-config/variables.ts';
import { READS, type Reader } from '../../src/commands/reads.ts';

describe('wrap', () => {
  const cases: [string, number, string[]][] = [
    ['', 10, []],
    ['one', 10, ['one']],
    ['one two three', 7, ['one two', 'three']],
    ['one two three', 13, ['one two three']],
    ['  spaced\n out  words ', 20, ['spaced out words']],
    ['/a/very/long/path/that/cannot/break here', 10, ['/a/very/long/path/that/cannot/break', 'here']],
  ];
  for (const [text, width, lines] of cases) {
    test(`${JSON.stringify(text)} at ${width}`, () => {
      assert.deepEqual(wrap(text, width), lines);
    });
  }
});

describe('the tags', () => {
  const commands = Object.keys(READS) as Reader[];

  test('every variable is used by some command besides env, so that its tags mean something', () => {
    for (const v of VARIABLES) {
      assert.ok(commands.some((c) => c !== 'env' && v.steps.some((s) => (READS[c] as readonly string[]).includes(s))), v.name);
    }
  });

  test('env reads every tag; every tag is read by some other command', () => {
    assert.deepEqual([...READS.env].sort(), allSteps().sort());
    for (const step of allSteps()) {
      assert.ok(commands.some((c) => c !== 'env' && (READS[c] as readonly string[]).includes(step)), step);
    }
  });
});

describe('variablesHelp', () => {
  for (const width of [60, 80, 120]) {
    test(`every command's variables fit in ${width} columns, each name listed once`, () => {
      for (const steps of Object.values(READS)) {
        const text = variablesHelp(steps, width);
        for (const line of text.split('\n')) assert.ok(line.length <= width, `${line.length}: ${line}`);
        for (const { name } of VARIABLES) assert.equal(timesListed(text, name), 1, name);
      }
    });
  }

  test('check-disk says that an invalid variable makes it UNKNOWN; the others, that it stops them with 78', () => {
    assert.match(variablesHelp(READS['check-disk'], 80, 'makes it UNKNOWN'), /an invalid one makes it UNKNOWN:\n/);
    assert.match(variablesHelp(READS['render-config']), /an invalid one stops it with exit 78:\n/);
    assert.doesNotMatch(variablesHelp(READS.env), /It checks every other variable/);
  });
});

/** How often `name` starts a row or stands in the list of the others. */
function timesListed(text: string, name: string): number {
  const [uses = '', others = ''] = text.split(/\nIt checks every other variable[^\n]*\n/);
  const rows = [...uses.matchAll(/^ {2}([A-Z0-9_]+)(?: |$)/gm)].map((m) => m[1]);
  const listed = others.split(/[\s,]+/);
  return rows.filter((n) => n === name).length + listed.filter((n) => n === name).length;
}
