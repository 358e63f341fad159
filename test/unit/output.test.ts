// Unit tests of the output: colour rules, progress pacing, the --json document.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Output, wantsColour, type OutStream } from '../../src/output.ts';

function stream(isTTY: boolean): OutStream & { text: string } {
  return { isTTY, text: '', write(t: string) { this.text += t; } };
}

test('colour: never with NO_COLOR, forced with FORCE_COLOR, otherwise only on a terminal', () => {
  assert.equal(wantsColour(stream(true), {}), true);
  assert.equal(wantsColour(stream(false), {}), false);
  assert.equal(wantsColour(stream(true), { NO_COLOR: '1' }), false);
  assert.equal(wantsColour(stream(true), { NO_COLOR: '' }), true);
  assert.equal(wantsColour(stream(false), { FORCE_COLOR: '1' }), true);
  assert.equal(wantsColour(stream(true), { FORCE_COLOR: '0' }), false);
  assert.equal(wantsColour(stream(true), { TERM: 'dumb' }), false);
});

test('on a terminal, warnings are coloured; elsewhere they are plain', async () => {
  const tty = stream(true);
  (await Output.create(stream(false), tty, { quiet: false, json: false, env: {} })).warn('careful');
  assert.equal(tty.text, '\u001b[33mcareful\u001b[39m\n');
  const pipe = stream(false);
  (await Output.create(stream(false), pipe, { quiet: false, json: false, env: {} })).warn('careful');
  assert.equal(pipe.text, 'careful\n');
});

test('progress: a live line on a terminal, at most every 100 ms, cleared at the end', async () => {
  let now = 1000;
  const err = stream(true);
  const out = await Output.create(stream(false), err, { quiet: false, json: false, env: { NO_COLOR: '1' }, clock: () => now });
  out.progress('1 entries');
  now += 50;
  out.progress('2 entries');
  now += 100;
  out.progress('3 entries');
  out.progressDone();
  assert.equal(err.text, '\r1 entries\u001b[K\r3 entries\u001b[K\r\u001b[K');
});

test('progress: elsewhere, a log line at most every five seconds', async () => {
  let now = 1000;
  const log = stream(false);
  const out = await Output.create(log, stream(false), { quiet: false, json: false, env: {}, clock: () => now });
  for (let i = 1; i <= 12; i++) {
    out.progress(`${i}`);
    now += 1000;
  }
  out.progressDone();
  assert.equal(log.text, '6\n11\n');
});

test('--quiet and --json print no log lines and no progress; warnings still go to stderr', async () => {
  for (const options of [{ quiet: true, json: false }, { quiet: false, json: true }]) {
    const out = stream(true);
    const err = stream(true);
    const o = await Output.create(out, err, { ...options, env: { NO_COLOR: '1' } });
    o.info('hello');
    o.progress('1');
    o.warn('careful');
    assert.equal(out.text, '');
    assert.equal(err.text, 'careful\n');
  }
});

test('--json prints one document with what each step recorded', async () => {
  const out = stream(false);
  const o = await Output.create(out, stream(false), { quiet: false, json: true, env: {} });
  o.record('storage', { created: ['/x'] });
  o.printDocument({ exitCode: 0 });
  assert.deepEqual(JSON.parse(out.text), { exitCode: 0, steps: { storage: { created: ['/x'] } } });
});
