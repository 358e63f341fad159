// Unit tests of the disk check's sizes, thresholds, statuses and output lines, on plain values.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { report, statusLine, type CheckResult } from '../../src/3-disk/check-disk.ts';
import { classify, oldScriptSizes, parseThreshold, thresholdBytes } from '../../src/3-disk/thresholds.ts';
import { formatBytes } from '../../src/output.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

test('sizes: binary units in any case, a plain number is MiB, percentages of the filesystem', () => {
  const cases: [string, ReturnType<typeof parseThreshold>][] = [
    ['2G', { bytes: 2 * GiB }], ['2g', { bytes: 2 * GiB }], ['2GiB', { bytes: 2 * GiB }], ['2GB', { bytes: 2 * GiB }],
    ['500M', { bytes: 500 * MiB }], ['524288K', { bytes: 512 * MiB }], ['1.5G', { bytes: 1.5 * GiB }], ['1T', { bytes: 2 ** 40 }],
    ['512', { bytes: 512 * MiB }], ['0', { bytes: 0 }], ['4096B', { bytes: 4096 }],
    ['10%', { percent: 10 }], ['0.5%', { percent: 0.5 }], ['100%', { percent: 100 }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseThreshold(text), expected, text);
  for (const text of ['', '-1G', '2X', 'G', '101%', '-5%', 'ten', '1e3', '2 G B']) assert.equal(parseThreshold(text), undefined, text);
  assert.equal(thresholdBytes({ percent: 10 }, 20 * GiB), 2 * GiB);
  assert.equal(thresholdBytes({ bytes: 5 }, 20 * GiB), 5);
});

test('status: CRITICAL below critical, WARNING below warning, OK at or above', () => {
  assert.equal(classify(100, 200, 50), 'WARNING');
  assert.equal(classify(49, 200, 50), 'CRITICAL');
  assert.equal(classify(50, 200, 50), 'WARNING');
  assert.equal(classify(200, 200, 50), 'OK');
  assert.equal(classify(0, 0, 0), 'OK');
});

test('human sizes: the largest unit, one decimal when it is not whole', () => {
  assert.equal(formatBytes(1.5 * GiB), '1.5 GiB');
  assert.equal(formatBytes(20 * GiB), '20 GiB');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(300 * MiB), '300 MiB');
  assert.equal(formatBytes(1023 * MiB + 512 * 1024), '1023.5 MiB');
});

test("the old script's integer arithmetic: KiB, then MB = KiB/1024, GB = MB/1024", () => {
  assert.deepEqual(oldScriptSizes(2 * GiB - 1), { mb: 2047, gb: 1 });
  assert.deepEqual(oldScriptSizes(300 * MiB), { mb: 300, gb: 0 });
  assert.deepEqual(oldScriptSizes(81_479 * MiB + 1000), { mb: 81_479, gb: 79 });
});

const warning: CheckResult = {
  status: 'WARNING', path: '/data/hls', free_bytes: 1.5 * GiB, total_bytes: 20 * GiB, warn_bytes: 2 * GiB, critical_bytes: 512 * MiB,
  message: '1.5 GiB free of 20 GiB on /data/hls',
};

test('the monitoring-plugins line: status first, performance data after |', () => {
  assert.equal(statusLine(warning), 'DISK WARNING - 1.5 GiB free of 20 GiB on /data/hls | free=1610612736B;2147483648;536870912;0;21474836480');
  assert.equal(statusLine({ ...warning, status: 'UNKNOWN', free_bytes: null, message: 'no such thing' }), 'DISK UNKNOWN - no such thing');
});

test('exit codes: 0 1 2 3, and for --healthcheck 0 0 1 1', () => {
  const codes = (healthcheck: boolean): number[] => (['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const)
    .map((status) => report({ ...warning, status }, { json: false, healthcheck }).exitCode);
  assert.deepEqual(codes(false), [0, 1, 2, 3]);
  assert.deepEqual(codes(true), [0, 0, 1, 1]);
});

test('--healthcheck output stays under 4 KB however long the path or message, and JSON stays JSON', () => {
  const long = { ...warning, path: `/${'x'.repeat(5000)}`, message: 'y'.repeat(9000) };
  for (const json of [false, true]) {
    const { text } = report(long, { json, healthcheck: true });
    assert.ok(Buffer.byteLength(text) < 4096, `${Buffer.byteLength(text)} bytes`);
    if (json) assert.equal((JSON.parse(text) as CheckResult).status, 'WARNING');
  }
});
