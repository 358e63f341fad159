// The disk step and check-disk on real filesystems of known size: tmpfs mounts of 300 MiB, 1 GiB and 4 GiB.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { cli, renderTo, tempDir } from '../support/cli.ts';
import { needsRoot } from '../support/require.ts';
import { mountTmpfs } from '../support/system.ts';

const MiB = 2 ** 20;

interface Case {
  readonly size: string;
  readonly status: 'OK' | 'WARNING' | 'CRITICAL';
  readonly code: number;
  readonly healthcheck: number;
}

const CASES: readonly Case[] = [
  { size: '300m', status: 'CRITICAL', code: 2, healthcheck: 1 },
  { size: '1g', status: 'WARNING', code: 1, healthcheck: 0 },
  { size: '4g', status: 'OK', code: 0, healthcheck: 0 },
];

/** What df reports for `dir`, independently of hls-bootstrap: available and total bytes, in whole KiB. */
function df(dir: string): { free: number; total: number } {
  const st = statfsSync(dir);
  return { free: Math.floor((st.bavail * st.bsize) / 1024) * 1024, total: Math.floor((st.blocks * st.bsize) / 1024) * 1024 };
}

function mount(t: TestContext, size: string): string {
  return mountTmpfs(t, join(tempDir(t), 'fs'), size, ['mode=0755']);
}

describe('check-disk on filesystems of known size', () => {
  for (const c of CASES) {
    test(`${c.size}: ${c.status}`, (t) => {
      if (!needsRoot(t)) return;
      const fs = mount(t, c.size);
      const hls = join(fs, 'hls');
      mkdirSync(hls);
      const { free, total } = df(hls);
      const human = (bytes: number): string => `${Number((bytes / (bytes >= 2 ** 30 ? 2 ** 30 : MiB)).toFixed(1))} ${bytes >= 2 ** 30 ? 'GiB' : 'MiB'}`;
      const line = `DISK ${c.status} - ${human(free)} free of ${human(total)} on ${hls} | free=${free}B;${2048 * MiB};${512 * MiB};0;${total}\n`;

      for (const env of [{ HLS_TEMP_DIR: hls }, {}]) {
        const args = 'HLS_TEMP_DIR' in env ? ['check-disk'] : ['check-disk', '--path', hls];
        const r = cli(args, { env });
        assert.equal(r.code, c.code, r.stderr);
        assert.equal(r.stdout, line);
        assert.equal(r.stderr, '');
      }

      const json = cli(['check-disk', '--json', '--path', hls]);
      assert.equal(json.code, c.code);
      assert.deepEqual(JSON.parse(json.stdout), {
        status: c.status, path: hls, free_bytes: free, total_bytes: total, warn_bytes: 2048 * MiB, critical_bytes: 512 * MiB,
        message: `${human(free)} free of ${human(total)} on ${hls}`,
      });

      for (const args of [['--healthcheck'], ['--healthcheck', '--json']]) {
        const r = cli(['check-disk', '--path', hls, ...args]);
        assert.equal(r.code, c.healthcheck, args.join(' '));
        assert.ok(Buffer.byteLength(r.stdout) < 4096);
      }

      // A path that does not exist yet: its nearest existing parent is measured.
      const missing = cli(['check-disk', '--json', '--path', join(hls, 'not', 'yet')]);
      const measured = JSON.parse(missing.stdout) as { status: string; free_bytes: number; total_bytes: number };
      assert.deepEqual([measured.status, measured.free_bytes, measured.total_bytes], [c.status, free, total]);
    });
  }

  test('thresholds given as sizes and percentages', (t) => {
    if (!needsRoot(t)) return;
    const fs = mount(t, '1g');
    const { free, total } = df(fs);
    const run = (...args: string[]): { code: number | null; doc: { status: string; warn_bytes: number; critical_bytes: number } } => {
      const r = cli(['check-disk', '--json', '--path', fs, ...args]);
      return { code: r.code, doc: JSON.parse(r.stdout) as { status: string; warn_bytes: number; critical_bytes: number } };
    };
    const percent = run('--warn', '50%', '--critical', '10%').doc;
    assert.deepEqual([percent.status, percent.warn_bytes, percent.critical_bytes], ['OK', Math.floor(total / 2), Math.floor(total / 10)]);
    assert.equal(run('--warn', '2G', '--critical', '1.5G').doc.status, 'CRITICAL');
    assert.equal(run('--warn', '2G', '--critical', '1.5G').code, 2);
    assert.equal(run('--warn', '1048577K', '--critical', '100').doc.status, free < 1048577 * 1024 ? 'WARNING' : 'OK');
    assert.equal(run('--warn', String(free / MiB + 1)).doc.status, 'WARNING');
    assert.equal(run('--warn', String(free / MiB)).doc.status, 'OK');
  });

  test('thresholds that make no sense are UNKNOWN, exit 3, with the reason', (t) => {
    const dir = tempDir(t);
    const cases: [string[], RegExp][] = [
      [['--warn', '1G', '--critical', '2G'], /^DISK UNKNOWN - the critical threshold \(2 GiB\) is above the warning threshold \(1 GiB\)\n$/],
      [['--warn', '-1G'], /^DISK UNKNOWN - --warn "-1G" is not a size: expected 2G, 500M/],
      [['--critical', 'lots'], /^DISK UNKNOWN - --critical "lots" is not a size/],
      [['--warn', '150%'], /^DISK UNKNOWN - --warn "150%" is not a size/],
    ];
    for (const [args, message] of cases) {
      const r = cli(['check-disk', '--path', dir, ...args]);
      assert.equal(r.code, 3, args.join(' '));
      assert.match(r.stdout, message);
      assert.equal(cli(['check-disk', '--healthcheck', '--path', dir, ...args]).code, 1);
    }
    const usage = cli(['check-disk', '--no-such-option']);
    assert.equal(usage.code, 3);
    assert.match(usage.stderr, /unknown option '--no-such-option'/);
    assert.equal(cli(['check-disk', '--healthcheck', '--no-such-option']).code, 1);
  });
});

describe('the disk step of the startup', () => {
  for (const c of CASES) {
    test(`${c.size}: the old script's lines`, (t) => {
      if (!needsRoot(t)) return;
      const fs = mount(t, c.size);
      const hls = join(fs, 'hls');
      const cwd = tempDir(t);
      const r = cli(['prepare'], { cwd, env: { HLS_TEMP_DIR: hls, ...renderTo(cwd) } });
      const mb = Math.floor(df(hls).free / MiB);
      assert.match(r.stdout, new RegExp(` {3}Available disk space: ${Math.floor(mb / 1024)}GB \\(${mb}MB\\)\\n✅ HLS storage configured\\n`));
      assert.equal(/WARNING: Low disk space for HLS segments!/.test(r.stderr), c.status !== 'OK');
      assert.equal(/🔴 CRITICAL: Very low disk space!/.test(r.stderr), c.status === 'CRITICAL');
      // A critical disk does not stop the start unless asked to.
      assert.equal(r.code, 0, r.stderr);
    });
  }

  test('HLS_DISK_CRITICAL_ACTION=fail stops a critical start with 75', (t) => {
    if (!needsRoot(t)) return;
    const small = join(mount(t, '300m'), 'hls');
    const cwd = tempDir(t);
    const r = cli(['prepare'], { cwd, env: { HLS_TEMP_DIR: small, HLS_DISK_CRITICAL_ACTION: 'fail', ...renderTo(cwd) } });
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /HLS_DISK_CRITICAL_ACTION=fail: the start-up stops here/);
    assert.match(r.stderr, /hls-bootstrap: free disk space is critical: \d+MB where .* is, below HLS_DISK_CRITICAL_MB=512; not starting/);
    assert.ok(!existsSync(join(cwd, 'supervisord.conf')), 'the steps after the disk step did not run');
    const warning = join(mount(t, '1g'), 'hls');
    const elsewhere = tempDir(t);
    const w = cli(['prepare'], { cwd: elsewhere, env: { HLS_TEMP_DIR: warning, HLS_DISK_CRITICAL_ACTION: 'fail', ...renderTo(elsewhere) } });
    assert.equal(w.code, 0, w.stderr);
    assert.ok(existsSync(join(elsewhere, 'supervisord.conf')));
  });

  test('custom thresholds from the variables', (t) => {
    if (!needsRoot(t)) return;
    const hls = join(mount(t, '1g'), 'hls');
    const cwd = tempDir(t);
    const r = cli(['prepare', '--json'], { cwd, env: { HLS_TEMP_DIR: hls, HLS_DISK_WARN_MB: '100', HLS_DISK_CRITICAL_MB: '50', ...renderTo(cwd) } });
    const doc = JSON.parse(r.stdout) as { steps: { disk: { status: string; warn_bytes: number; critical_bytes: number } } };
    const { status, warn_bytes: warn, critical_bytes: critical } = doc.steps.disk;
    assert.deepEqual([status, warn, critical], ['OK', 100 * MiB, 50 * MiB]);
    assert.doesNotMatch(r.stderr, /WARNING/);
  });
});
