// Unit tests of the disk check on plain values: sizes, percentages, statfs figures, the verdict, the line and the codes.

import assert from 'node:assert/strict';
import type { BigIntStatsFs } from 'node:fs';
import { describe, test } from 'node:test';
import { resolveConfig } from '../../src/1-config/resolve.ts';
import type { Context } from '../../src/1-config/variables.ts';
import { parseGroup, parsePasswd, userDb } from '../../src/1-config/users.ts';
import { optionLimits } from '../../src/3-disk/check-disk.ts';
import { figures, type DiskSpace } from '../../src/3-disk/measure.ts';
import { report, resultOf, statusLine, unknownResult, type CheckResult } from '../../src/3-disk/report.ts';
import { classify, oldScriptSizes, parsePercent, parseThreshold, percentOf, shareText, thresholdBytes, worst } from '../../src/3-disk/thresholds.ts';
import { judge, type Limits } from '../../src/3-disk/verdict.ts';
import { BootstrapError } from '../../src/errors.ts';
import { formatBytes } from '../../src/output.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const DEFAULTS: Limits = { warn: { bytes: 2 * GiB }, critical: { bytes: 512 * MiB }, inodeWarnPercent: 10, inodeCriticalPercent: 5 };

function space(free: number, total: number, inodes?: { free: number; total: number }, measured = '/data/hls'): DiskSpace {
  return { path: '/data/hls', measured, free, total, inodes };
}

describe('sizes and percentages', () => {
  test('sizes: binary units in any case, a plain number is MiB, percentages of the filesystem', () => {
    const cases: [string, ReturnType<typeof parseThreshold>][] = [
      ['2G', { bytes: 2 * GiB }], ['2g', { bytes: 2 * GiB }], ['2GiB', { bytes: 2 * GiB }], ['2GB', { bytes: 2 * GiB }],
      ['500M', { bytes: 500 * MiB }], ['524288K', { bytes: 512 * MiB }], ['1.5G', { bytes: 1.5 * GiB }], ['1T', { bytes: 2 ** 40 }],
      ['512', { bytes: 512 * MiB }], ['0', { bytes: 0 }], ['4096B', { bytes: 4096 }],
      ['10%', { percent: 10 }], ['0.5%', { percent: 0.5 }], ['100%', { percent: 100 }], ['12.25%', { percent: 12.25 }],
    ];
    for (const [text, expected] of cases) assert.deepEqual(parseThreshold(text), expected, text);
    for (const text of ['', '-1G', '2X', 'G', '101%', '-5%', 'ten', '1e3', '2 G B', '1.125%', '%']) assert.equal(parseThreshold(text), undefined, text);
  });

  test('percentages of inodes: 0 to 100, with or without %, at most two decimals', () => {
    const cases: [string, number][] = [['10', 10], ['10%', 10], ['2.5%', 2.5], ['0', 0], ['100', 100], ['0.25', 0.25], [' 7 ', 7]];
    for (const [text, expected] of cases) assert.equal(parsePercent(text), expected, text);
    for (const text of ['', '%', '101', '100.01', '-1', '1.234', 'ten', '1e1', '10 %', '0x10']) assert.equal(parsePercent(text), undefined, text);
  });

  test('a percentage of a total is the smallest whole count not below it, exactly, for any total', () => {
    assert.equal(percentOf(1000, 10), 100);
    assert.equal(percentOf(1001, 10), 101);
    assert.equal(percentOf(200, 5), 10);
    assert.equal(percentOf(3, 33.33), 1);
    assert.equal(percentOf(1_000_000_007, 0.01), 100_001);
    assert.equal(percentOf(2 ** 52 + 2, 50), 2 ** 51 + 1);
    assert.equal(percentOf(12345, 0), 0);
    assert.equal(percentOf(12345, 100), 12345);
    // In floating point, 100 x 0.07 is 7.000000000000001, which would round up to 8.
    assert.equal(percentOf(100, 7), 7);
    assert.equal(thresholdBytes({ percent: 10 }, 20 * GiB), 2 * GiB);
    assert.equal(thresholdBytes({ percent: 10 }, 1001), 101);
    assert.equal(thresholdBytes({ bytes: 5 }, 20 * GiB), 5);
  });

  test('shares are rounded down to one decimal, so that they never read above a threshold they are below', () => {
    const cases: [number, number, string][] = [[14, 200, '7%'], [1, 3, '33.3%'], [9999, 10000, '99.9%'], [0, 10, '0%'], [10, 10, '100%'], [499, 10000, '4.9%']];
    for (const [part, whole, text] of cases) assert.equal(shareText(part, whole), text, `${part}/${whole}`);
  });

  test('human sizes and the old script\'s integer arithmetic', () => {
    assert.equal(formatBytes(1.5 * GiB), '1.5 GiB');
    assert.equal(formatBytes(300 * MiB), '300 MiB');
    assert.equal(formatBytes(1023 * MiB + 512 * 1024), '1023.5 MiB');
    assert.deepEqual(oldScriptSizes(2 * GiB - 1), { mb: 2047, gb: 1 });
    assert.deepEqual(oldScriptSizes(81_479 * MiB + 1000), { mb: 81_479, gb: 79 });
  });
});

describe('statfs figures', () => {
  const stats = (fields: Partial<Record<keyof BigIntStatsFs, bigint>>): BigIntStatsFs => ({
    type: 0x01021994n, bsize: 4096n, blocks: 2560n, bfree: 2000n, bavail: 1900n, files: 1000n, ffree: 900n, ...fields,
  } as BigIntStatsFs);

  test('bytes are blocks times the fragment size, or the block size where Node does not report it', () => {
    assert.deepEqual(figures(stats({ frsize: 4096n })), { free: 1900 * 4096, total: 2560 * 4096, inodes: { free: 900, total: 1000 } });
    assert.deepEqual(figures(stats({ bsize: 1048576n, frsize: 4096n })).free, 1900 * 4096);
    assert.deepEqual(figures(stats({})).total, 2560 * 4096);
  });

  test('a filesystem without inode figures reports none, and no blocks stay no blocks', () => {
    assert.equal(figures(stats({ files: 0n, ffree: 0n })).inodes, undefined);
    assert.equal(figures(stats({ files: 100n, ffree: 2n ** 64n - 1n })).inodes, undefined);
    assert.deepEqual(figures(stats({ blocks: 0n, bfree: 0n, bavail: 0n, files: 0n, ffree: 0n })), { free: 0, total: 0, inodes: undefined });
  });
});

describe('the verdict', () => {
  test('each metric: CRITICAL below critical, WARNING below warning, OK at or above; the worse one wins', () => {
    assert.equal(classify(49, 200, 50), 'CRITICAL');
    assert.equal(classify(50, 200, 50), 'WARNING');
    assert.equal(classify(200, 200, 50), 'OK');
    assert.equal(worst('OK', 'WARNING'), 'WARNING');
    assert.equal(worst('CRITICAL', 'WARNING'), 'CRITICAL');
    const cases: [number, number, string][] = [
      [3 * GiB, 500, 'OK'], [3 * GiB, 100, 'OK'], [3 * GiB, 99, 'WARNING'], [3 * GiB, 49, 'CRITICAL'],
      [2 * GiB, 1000, 'OK'], [2 * GiB - 1, 1000, 'WARNING'], [512 * MiB - 1, 1000, 'CRITICAL'], [1 * GiB, 49, 'CRITICAL'], [100 * MiB, 99, 'CRITICAL'],
    ];
    for (const [free, freeInodes, status] of cases) {
      assert.equal(judge(space(free, 10 * GiB, { free: freeInodes, total: 1000 }), DEFAULTS).status, status, `${free} B, ${freeInodes} inodes`);
    }
  });

  test('without inode figures only the space is judged', () => {
    const verdict = judge(space(100 * GiB, 200 * GiB), DEFAULTS);
    assert.equal(verdict.status, 'OK');
    assert.equal(verdict.inodes, undefined);
  });

  test('a filesystem without blocks, or thresholds that make no sense, are UNKNOWN with the reason', () => {
    assert.match(judge(space(0, 0, undefined, '/proc'), DEFAULTS).reason ?? '', /^the filesystem of \/proc reports no blocks/);
    assert.equal(judge(space(0, 0), DEFAULTS).status, 'UNKNOWN');
    const bytes = judge(space(GiB, 10 * GiB), { ...DEFAULTS, warn: { bytes: GiB }, critical: { bytes: 2 * GiB } });
    assert.deepEqual([bytes.status, bytes.reason], ['UNKNOWN', 'the critical threshold (2 GiB) is above the warning threshold (1 GiB)']);
    const percent = judge(space(GiB, 10 * GiB), { ...DEFAULTS, warn: { percent: 5 }, critical: { percent: 10 } });
    assert.equal(percent.status, 'UNKNOWN');
    const inodes = judge(space(GiB, 10 * GiB), { ...DEFAULTS, inodeWarnPercent: 3, inodeCriticalPercent: 5 });
    assert.deepEqual([inodes.status, inodes.reason], ['UNKNOWN', 'the critical inode threshold (5%) is above the warning one (3%)']);
  });

  test('a threshold above 8 PiB, whose byte count would not be exact, is refused, as an option and as a variable', () => {
    assert.deepEqual(optionLimits({ warn: '8191T' }, DEFAULTS), { ...DEFAULTS, warn: { bytes: 8191 * 2 ** 40 } });
    assert.equal(optionLimits({ warn: '8192T', critical: '999999999999G' }, DEFAULTS),
      '--warn "8192T" is above 8 PiB, the largest threshold whose byte count is exact; --critical "999999999999G" is above 8 PiB, the largest threshold whose byte count is exact');
    const ctx: Context = { users: userDb(parsePasswd('root:x:0:0::/root:/bin/sh\n'), parseGroup('root:x:0:\n')), euid: 0, egid: 0, randomHex: () => '' };
    assert.equal(resolveConfig([{ source: 'environment', values: { HLS_DISK_WARN_MB: '8589934591' } }], ctx).values.HLS_DISK_WARN_MB, 8589934591);
    assert.throws(() => resolveConfig([{ source: 'environment', values: { HLS_DISK_WARN_MB: '8589934592', HLS_BROADCAST_DISK_WARN_MB: '9007199254740991' } }], ctx),
      (e: unknown) => e instanceof BootstrapError && e.problems.length === 2
        && e.problems[0] === 'HLS_DISK_WARN_MB="8589934592" is not valid: it is above 8 PiB, the largest threshold whose byte count is exact (8589934591 MiB); '
          + 'expected an integer number of MiB');
  });

  test("check-disk's options replace the variables' thresholds, and say what is wrong with them", () => {
    assert.deepEqual(optionLimits({ warn: '10%', inodeCritical: '2.5' }, DEFAULTS), { ...DEFAULTS, warn: { percent: 10 }, inodeCriticalPercent: 2.5 });
    assert.equal(optionLimits({ warn: '-1G', inodeWarn: '200%' }, DEFAULTS),
      '--warn "-1G" is not a size: expected 2G, 500M, 524288K, a number of MiB, or a percentage such as 10%; '
      + '--inode-warn "200%" is not valid: expected a percentage of all inodes from 0 to 100, such as 10 or 2.5%');
  });
});

/** The plugin range syntax as the monitoring-plugins guidelines define it: does `value` raise an alert? */
function alerts(range: string, value: number): boolean {
  const inside = range.startsWith('@');
  const body = inside ? range.slice(1) : range;
  const [startText = '', endText] = body.includes(':') ? body.split(':') : ['0', body];
  const start = startText === '~' ? -Infinity : Number(startText);
  const end = endText === undefined || endText === '' ? Infinity : Number(endText);
  const within = value >= start && value <= end;
  return inside ? within : !within;
}

/** The status a monitoring system derives from the performance data alone. */
function statusFromPerfdata(line: string): string {
  const perf = line.split(' | ')[1] ?? '';
  let status = 'OK';
  for (const item of perf.split(' ')) {
    const [value = '', warn = '', critical = ''] = (item.split('=')[1] ?? '').split(';');
    const number = Number(value.replace(/B$/, ''));
    if (alerts(critical, number)) status = 'CRITICAL';
    else if (status === 'OK' && alerts(warn, number)) status = 'WARNING';
  }
  return status;
}

describe('the status line, --json and the exit codes', () => {
  const warning = resultOf(judge(space(1.5 * GiB, 20 * GiB, { free: 1_190_000, total: 1_310_720 }), DEFAULTS));

  test('the monitoring-plugins line: status, what was measured where, and performance data in the plugin range syntax', () => {
    assert.equal(statusLine(warning), 'DISK WARNING - /data/hls: 1.5 GiB free of 20 GiB (warning below 2 GiB); inodes 90.7% free, 1190000 of 1310720'
      + ' | free=1610612736B;2147483648:;536870912:;0;21474836480 free_inodes=1190000;131072:;65536:;0;1310720');
    const inodes = resultOf(judge(space(3 * GiB, 20 * GiB, { free: 40, total: 1000 }, '/data'), DEFAULTS));
    assert.equal(statusLine(inodes), 'DISK CRITICAL - /data (nearest existing parent of /data/hls): 3 GiB free of 20 GiB; inodes 4% free, 40 of 1000 (critical below 5%)'
      + ' | free=3221225472B;2147483648:;536870912:;0;21474836480 free_inodes=40;100:;50:;0;1000');
    const none = resultOf(judge(space(3 * GiB, 20 * GiB), DEFAULTS));
    assert.equal(statusLine(none), 'DISK OK - /data/hls: 3 GiB free of 20 GiB; inodes not reported by the filesystem, not checked'
      + ' | free=3221225472B;2147483648:;536870912:;0;21474836480');
    assert.equal(statusLine(unknownResult('/x', 'no such thing')), 'DISK UNKNOWN - no such thing');
  });

  test('the performance data alone gives a monitoring system the same status, on each side of every threshold', () => {
    for (const free of [0, 512 * MiB - 1, 512 * MiB, 2 * GiB - 1, 2 * GiB, 5 * GiB]) {
      for (const freeInodes of [0, 49, 50, 99, 100, 1000]) {
        const result = resultOf(judge(space(free, 10 * GiB, { free: freeInodes, total: 1000 }), DEFAULTS));
        assert.equal(statusFromPerfdata(statusLine(result)), result.status, `${free} B, ${freeInodes} inodes`);
      }
    }
  });

  test('--json: the existing keys with their names, the inode figures and the path measured', () => {
    assert.deepEqual(Object.keys(warning), ['status', 'path', 'measured_path', 'free_bytes', 'total_bytes', 'warn_bytes', 'critical_bytes',
      'free_inodes', 'total_inodes', 'warn_inodes', 'critical_inodes', 'message']);
    assert.deepEqual([warning.free_inodes, warning.total_inodes, warning.warn_inodes, warning.critical_inodes], [1_190_000, 1_310_720, 131_072, 65_536]);
    const unknown = resultOf(judge(space(0, 0, undefined, '/proc'), DEFAULTS));
    assert.deepEqual({ ...unknown, message: '' }, { ...unknownResult('/data/hls', '', '/proc') });
  });

  test('exit codes: 0 1 2 3, and for --healthcheck 0 0 1 1', () => {
    const codes = (healthcheck: boolean): number[] => (['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const)
      .map((status) => report({ ...warning, status }, { json: false, healthcheck }).exitCode);
    assert.deepEqual(codes(false), [0, 1, 2, 3]);
    assert.deepEqual(codes(true), [0, 0, 1, 1]);
  });

  test('the line stays one line, with no | before the performance data, whatever the path holds', () => {
    const path = '/data/a|b\nc\r\x1b[31m\\n\u2028\u0085\t';
    const result = resultOf(judge({ ...space(GiB, 10 * GiB, { free: 40, total: 1000 }), path, measured: path }, DEFAULTS));
    const line = statusLine(result);
    assert.equal(line, 'DISK CRITICAL - /data/a\\x7cb\\nc\\r\\x1b[31m\\\\n\\u2028\\x85\\t: 1 GiB free of 10 GiB (warning below 2 GiB); inodes 4% free, 40 of 1000 (critical below 5%)'
      + ' | free=1073741824B;2147483648:;536870912:;0;10737418240 free_inodes=40;100:;50:;0;1000');
    assert.equal(statusFromPerfdata(line), 'CRITICAL');
    assert.equal(result.path, path, '--json keeps the path as it is: JSON escapes it');
    assert.equal(statusLine(unknownResult('', 'HLS_TEMP_DIR="/a|b" is not valid')), 'DISK UNKNOWN - HLS_TEMP_DIR="/a\\x7cb" is not valid');
  });

  test('--healthcheck output stays under 4 KB however long or wide the path, and JSON stays JSON', () => {
    for (const path of [`/${'x'.repeat(5000)}`, `/${'€'.repeat(3000)}`, `/${'\u0001'.repeat(3000)}`, `/${'🎬'.repeat(3000)}`, `/a${'🎬'.repeat(3000)}`, `/${'|'.repeat(5000)}`]) {
      const long = resultOf(judge({ ...space(GiB, 10 * GiB), path, measured: path }, DEFAULTS));
      for (const json of [false, true]) {
        const { text } = report(long, { json, healthcheck: true });
        assert.ok(Buffer.byteLength(text) < 4096, `${Buffer.byteLength(text)} bytes`);
        assert.doesNotMatch(text, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/, 'not cut inside a character');
        if (json) assert.equal((JSON.parse(text) as CheckResult).status, 'WARNING');
        else assert.match(text, /^DISK WARNING - .* \| free=1073741824B;2147483648:;536870912:;0;10737418240\n$/);
      }
    }
  });
});

describe('the inode variables', () => {
  const ctx: Context = { users: userDb(parsePasswd('root:x:0:0::/root:/bin/sh\n'), parseGroup('root:x:0:\n')), euid: 0, egid: 0, randomHex: () => '' };
  const resolve = (values: Record<string, string>): ReturnType<typeof resolveConfig> => resolveConfig([{ source: 'environment', values }], ctx);

  test('defaults of 10% and 5% free, as check_disk is often run; percentages as check-disk reads them', () => {
    const config = resolve({});
    assert.deepEqual([config.values.HLS_DISK_INODES_WARN_PERCENT, config.values.HLS_DISK_INODES_CRITICAL_PERCENT], [10, 5]);
    const given = resolve({ HLS_DISK_INODES_WARN_PERCENT: '2.5%', HLS_DISK_INODES_CRITICAL_PERCENT: '0' });
    assert.deepEqual([given.text.HLS_DISK_INODES_WARN_PERCENT, given.text.HLS_DISK_INODES_CRITICAL_PERCENT], ['2.5', '0']);
  });

  test('a value that is not a percentage, or critical above warning, is a configuration error', () => {
    const problems = (values: Record<string, string>): readonly string[] => {
      try {
        resolve(values);
      } catch (error) {
        assert.ok(error instanceof BootstrapError);
        return error.problems;
      }
      return assert.fail('expected a configuration error');
    };
    assert.deepEqual(problems({ HLS_DISK_INODES_WARN_PERCENT: '150', HLS_DISK_INODES_CRITICAL_PERCENT: 'few' }), [
      'HLS_DISK_INODES_WARN_PERCENT="150" is not valid: expected a percentage from 0 to 100, such as 10 or 2.5%, with at most two decimals',
      'HLS_DISK_INODES_CRITICAL_PERCENT="few" is not valid: expected a percentage as HLS_DISK_INODES_WARN_PERCENT, at most that',
    ]);
    assert.deepEqual(problems({ HLS_DISK_INODES_WARN_PERCENT: '4', HLS_DISK_INODES_CRITICAL_PERCENT: '4.5' }), [
      'HLS_DISK_INODES_CRITICAL_PERCENT="4.5" is not valid: it is above HLS_DISK_INODES_WARN_PERCENT (4); expected at most the warning level',
    ]);
  });
});
