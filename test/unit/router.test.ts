// The router: which command a command line runs, so that only that one is built.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { namedCommand } from '../../src/main.ts';

describe('the command a command line runs, registered alone', () => {
  const cases: readonly (readonly [readonly string[], string | undefined])[] = [
    [['check-disk', '--healthcheck'], 'check-disk'],
    [['run'], 'run'],
    [['run', '--', 'supervisord'], 'run'],
    [['-q', '--env-file', 'run', 'prepare'], 'prepare'],
    [['--env-file=x.env', '--json', 'env'], 'env'],
    [['run', '--help'], 'run'],
    [[], undefined],
    [['--help'], undefined],
    [['-V'], undefined],
    [['help', 'run'], undefined],
    [['chek-disk'], undefined],
    [['--', 'run'], undefined],
    [['--env-file'], undefined],
  ];
  for (const [argv, expected] of cases) {
    test(`${JSON.stringify(argv)}: ${expected ?? 'every command'}`, () => {
      assert.equal(namedCommand(argv), expected);
    });
  }
});
