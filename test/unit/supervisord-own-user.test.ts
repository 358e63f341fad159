// A non-root supervisord's config leaves out the user= that names its own uid, which supervisord would refuse without a user database entry.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { resolveConfig } from '../../src/1-config/resolve.ts';
import { parseGroup, parsePasswd, userDb } from '../../src/1-config/users.ts';
import type { Context } from '../../src/1-config/variables.ts';
import { joinLines, splitLines } from '../../src/4-supervisord/ini.ts';
import { withoutOwnUid } from '../../src/4-supervisord/own-user.ts';
import { render } from '../../src/4-supervisord/render.ts';
import { ROOT } from '../support/root.ts';

const drop = (text: string, euid: number, env: Record<string, string> = {}): { text: string; removed: string[] } => {
  const { lines, removed } = withoutOwnUid(splitLines(text), env, euid);
  return { text: joinLines(lines), removed };
};

describe('withoutOwnUid', () => {
  const cases: [string, string, number, Record<string, string>, string, string[]][] = [
    ['a uid without an entry, through %(ENV_X)s', '[program:p]\ncommand=x\nuser=%(ENV_U)s\nautostart=true\n', 12345, { U: '12345' },
      '[program:p]\ncommand=x\nautostart=true\n', ['[program:p] user=%(ENV_U)s']],
    ['a literal uid, and supervisord\'s own section', '[supervisord]\nuser = 12345\n[program:p]\nuser=12345\n', 12345, {},
      '[supervisord]\n[program:p]\n', ['[supervisord] user = 12345', '[program:p] user=12345']],
    ['root keeps every user=', '[program:p]\nuser=0\n', 0, {}, '[program:p]\nuser=0\n', []],
    ['another uid stays, for supervisord to refuse', '[program:p]\nuser=999\n', 12345, {}, '[program:p]\nuser=999\n', []],
    ['a name stays: supervisord resolves it', '[program:p]\nuser=%(ENV_U)s\n', 999, { U: 'm3ue' }, '[program:p]\nuser=%(ENV_U)s\n', []],
    ['an unset reference stays', '[program:p]\nuser=%(ENV_NOT_SET)s\n', 12345, {}, '[program:p]\nuser=%(ENV_NOT_SET)s\n', []],
    ['a commented-out user= is no option', '[program:p]\n;user=12345\n', 12345, {}, '[program:p]\n;user=12345\n', []],
    ['a user= written twice: the later one counts, and both go, or the earlier would take its place',
      '[program:p]\nuser=999\n[program:p]\nuser=12345\n', 12345, {}, '[program:p]\n[program:p]\n', ['[program:p] user=999', '[program:p] user=12345']],
    ['a user= written twice, the later another uid: both stay', '[program:p]\nuser=12345\nUser = 999\n', 12345, {}, '[program:p]\nuser=12345\nUser = 999\n', []],
    ['CRLF lines keep their ends', '[program:p]\r\nuser=12345\r\nautostart=true\r\n', 12345, {}, '[program:p]\r\nautostart=true\r\n', ['[program:p] user=12345']],
  ];
  for (const [name, text, euid, env, expected, removed] of cases) {
    test(name, () => {
      assert.deepEqual(drop(text, euid, env), { text: expected, removed });
    });
  }
});

describe('render for a supervisord that is not root', () => {
  const template = readFileSync(join(ROOT, 'docker', 'supervisord.conf'), 'utf8');
  const config = (euid: number): ReturnType<typeof resolveConfig> => {
    const ctx: Context = { users: userDb(parsePasswd('root:x:0:0::/root:/bin/sh\n'), parseGroup('root:x:0:\n')), euid, egid: 0, randomHex: (n) => 'ab'.repeat(n) };
    return resolveConfig([{ source: 'environment', values: {} }], ctx);
  };

  test('started as a uid the image does not know: the shipped template\'s user= goes, everything else stays', () => {
    const rendered = render(template, config(12345), 12345);
    assert.deepEqual(rendered.ownUser, ['[program:m3u-proxy] user=%(ENV_SUPERVISOR_PHP_USER)s']);
    assert.doesNotMatch(rendered.text, /^user=/m);
    assert.equal(rendered.text, render(template, config(12345)).text.replace('user=%(ENV_SUPERVISOR_PHP_USER)s\n', ''));
  });

  test('started as root: user= stays', () => {
    const rendered = render(template, config(0), 0);
    assert.deepEqual(rendered.ownUser, []);
    assert.match(rendered.text, /^user=%\(ENV_SUPERVISOR_PHP_USER\)s$/m);
  });
});
