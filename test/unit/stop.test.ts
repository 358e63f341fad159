// Stop requests: the first signal counts, listeners hear it once, check() names the step with 128+N.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Interrupted, STOP_SIGNALS, Stop, settle } from '../../src/stop.ts';

test('the first request counts; later ones change nothing', () => {
  const stop = new Stop();
  const heard: string[] = [];
  stop.onRequest((signal) => heard.push(signal));
  assert.equal(stop.requested, undefined);
  stop.check('the storage step');
  stop.request('SIGINT');
  stop.request('SIGTERM');
  assert.equal(stop.requested, 'SIGINT');
  assert.deepEqual(heard, ['SIGINT']);
});

test('a listener added after the request hears it at once; an unsubscribed one never does', () => {
  const stop = new Stop();
  const heard: string[] = [];
  const off = stop.onRequest((signal) => heard.push(`early ${signal}`));
  off();
  stop.request('SIGHUP');
  stop.onRequest((signal) => heard.push(`late ${signal}`));
  assert.deepEqual(heard, ['late SIGHUP']);
});

test('check() throws Interrupted with 128+N and one line naming the step, for each stop signal', () => {
  const expected = { SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143 };
  for (const signal of STOP_SIGNALS) {
    const stop = new Stop();
    stop.request(signal);
    assert.throws(() => {
      stop.check('the disk step');
    }, (error: unknown) => {
      assert.ok(error instanceof Interrupted);
      assert.equal(error.exitCode, expected[signal]);
      assert.deepEqual(error.problems, [`stopped by ${signal} during the disk step`]);
      return true;
    });
  }
});

test('settle() lets a request made in this turn arrive before it checks', async () => {
  const stop = new Stop();
  setImmediate(() => {
    stop.request('SIGTERM');
  });
  await assert.rejects(settle(stop, 'the exec'), Interrupted);
});
