// The users a rendered supervisord config names: each must be in the database, and a supervisord that is not root runs programs only as itself.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { userDb } from '../../src/1-config/users.ts';
import { userProblems } from '../../src/4-supervisord/users.ts';

const users = userDb(
  [{ name: 'root', uid: 0, gid: 0, home: '/root' }, { name: 'm3ue', uid: 1000, gid: 1000, home: '/home/m3ue' }],
  [],
);

function check(text: string, env: Record<string, string> = {}, uid = 0): string[] {
  return userProblems(text, { env, users, uid, path: '/etc/supervisor/conf.d/supervisord.conf' });
}

test('names and numbers in the database pass, after %(ENV_X)s, %(here)s and %(program_name)s expansion', () => {
  const text = '[supervisord]\nuser=root\n\n[program:a]\nuser=%(ENV_U)s\n\n[program:b]\nuser=1000\n[program:c]\ncommand=x\n';
  assert.deepEqual(check(text, { U: 'm3ue' }), []);
  assert.deepEqual(check('[program:m3ue]\nuser=%(program_name)s\n'), []);
  assert.deepEqual(check('[program:x]\nuser=m3ue ; a comment\n'), []);
});

test('a number without an entry, and a name without one, each named with its section and value', () => {
  assert.deepEqual(check('[program:m3u-proxy]\nuser=%(ENV_WWWUSER)s\n', { WWWUSER: '54321' }), [
    '[program:m3u-proxy] user=%(ENV_WWWUSER)s (54321): supervisord needs a user database entry even for a numeric uid, and /etc/passwd has none for 54321',
  ]);
  assert.deepEqual(check('[supervisord]\nuser=nosuchuser\n[eventlistener:e]\nuser=nobody2\n'), [
    '[supervisord] user=nosuchuser: there is no user named "nosuchuser" in the user database (/etc/passwd)',
    '[eventlistener:e] user=nobody2: there is no user named "nobody2" in the user database (/etc/passwd)',
  ]);
});

test('a non-root [supervisord] user= with a program as root (or anyone else) is refused', () => {
  const text = '[supervisord]\nuser=%(ENV_SUPERVISOR_PHP_USER)s\n[program:postgres]\nuser=root\n[program:proxy]\nuser=m3ue\n[program:other]\nuser=0\n';
  assert.deepEqual(check(text, { SUPERVISOR_PHP_USER: 'root' }), []);
  assert.deepEqual(check(text, { SUPERVISOR_PHP_USER: 'm3ue' }), [
    '[program:postgres] user=root: supervisord runs as uid 1000 ([supervisord] user=%(ENV_SUPERVISOR_PHP_USER)s (m3ue)), and a supervisord that is not root cannot start a program as another user',
    '[program:other] user=0: supervisord runs as uid 1000 ([supervisord] user=%(ENV_SUPERVISOR_PHP_USER)s (m3ue)), and a supervisord that is not root cannot start a program as another user',
  ]);
});

test('exec\'d as a user other than root: [supervisord] user= must be that user, and so must every program\'s', () => {
  assert.deepEqual(check('[supervisord]\nuser=m3ue\n[program:p]\nuser=1000\n', {}, 1000), []);
  assert.deepEqual(check('[supervisord]\nuser=root\n', {}, 1000), ['[supervisord] user=root: supervisord starts as uid 1000, and only root can switch to another user']);
  assert.deepEqual(check('[program:p]\nuser=root\n', {}, 1000), ['[program:p] user=root: supervisord runs as uid 1000, and a supervisord that is not root cannot start a program as another user']);
});

test('a value with a name this check cannot know (%(process_num)s) is left to supervisord', () => {
  assert.deepEqual(check('[program:p]\nuser=u%(process_num)s\n'), []);
});

test('a section or a user= written twice: the one supervisord uses, the last, is checked', () => {
  assert.deepEqual(check('[supervisord]\nuser=nosuchuser\n[program:a]\ncommand=x\n[supervisord]\nuser=root\n'), []);
  assert.deepEqual(check('[supervisord]\nuser=root\nuser=nosuchuser\n'), [
    '[supervisord] user=nosuchuser: there is no user named "nosuchuser" in the user database (/etc/passwd)',
  ]);
  // Started as m3ue: the [supervisord] and [program:a] that count both say m3ue.
  assert.deepEqual(check('[supervisord]\nuser=root\n[program:a]\nuser=nosuchuser\n[program:a]\nuser=m3ue\n[supervisord]\nuser=m3ue\n', {}, 1000), []);
});
