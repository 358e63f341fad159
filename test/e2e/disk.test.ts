// check-disk and the disk step on real filesystems: tmpfs mounts of chosen sizes, names and inode counts,
// every figure compared with what statfs reports through coreutils' stat -f, not through hls-bootstrap's code.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { BIN, PATH, cli, renderTo, sh, tempDir, type CliResult } from '../support/cli.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { ensureUser, mountTmpfs } from '../support/system.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const WARN = 2048 * MiB;
const CRITICAL = 512 * MiB;

/** What statfs reports for `dir`, read by `stat -f`: bytes available and in all (blocks x fundamental block size), inodes. */
function statfs(dir: string): { free: number; total: number; inodes: number; freeInodes: number } {
  const [available, blocks, unit, inodes, freeInodes] = sh(`stat -f --format '%a %b %S %c %d' '${dir}'`).trim().split(' ').map(Number);
  return { free: (available ?? 0) * (unit ?? 0), total: (blocks ?? 0) * (unit ?? 0), inodes: inodes ?? 0, freeInodes: freeInodes ?? 0 };
}

/** Sizes as the line shows them, worked out here: the largest of MiB and GiB that keeps 1 or more, one decimal at most. */
function human(bytes: number): string {
  const [unit, name] = bytes >= GiB ? [GiB, 'GiB'] : [MiB, 'MiB'];
  return `${Number((bytes / unit).toFixed(1))} ${name}`;
}

/** The share of free inodes as the line shows it: rounded down to one decimal. */
const share = (part: number, whole: number): string => `${Math.floor((part * 1000) / whole) / 10}%`;

/** The line check-disk must print for `dir` with the default thresholds, from stat -f's figures. */
function expectedLine(dir: string, status: string, where = dir): string {
  const st = statfs(dir);
  const below = st.free < CRITICAL ? ' (critical below 512 MiB)' : st.free < WARN ? ' (warning below 2 GiB)' : '';
  const iwarn = Math.ceil(st.inodes / 10);
  const icritical = Math.ceil(st.inodes / 20);
  const ibelow = st.freeInodes < icritical ? ' (critical below 5%)' : st.freeInodes < iwarn ? ' (warning below 10%)' : '';
  return `DISK ${status} - ${where}: ${human(st.free)} free of ${human(st.total)}${below}; inodes ${share(st.freeInodes, st.inodes)} free, `
    + `${st.freeInodes} of ${st.inodes}${ibelow} | free=${st.free}B;${WARN}:;${CRITICAL}:;0;${st.total} `
    + `free_inodes=${st.freeInodes};${iwarn}:;${icritical}:;0;${st.inodes}\n`;
}

function mount(t: TestContext, size: string, options: readonly string[] = [], source = 'tmpfs'): string {
  return mountTmpfs(t, join(tempDir(t), 'fs'), size, ['mode=0755', ...options], source);
}

const CODES = { OK: [0, 0], WARNING: [1, 0], CRITICAL: [2, 1], UNKNOWN: [3, 1] } as const;
type Status = keyof typeof CODES;

/** Runs check-disk plain and with --healthcheck: each exits with its code for `status`, with the same line and nothing on stderr. */
function assertCheck(args: readonly string[], status: Status, line: string | RegExp, env: Record<string, string> = {}): void {
  const [code, healthcheck] = CODES[status];
  for (const [extra, expected] of [[[], code], [['--healthcheck'], healthcheck]] as const) {
    const r: CliResult = cli(['check-disk', ...extra, ...args], { env, cwd: '/' });
    assert.equal(r.code, expected, `${args.join(' ')} ${extra.join(' ')}: ${r.stdout}${r.stderr}`);
    if (typeof line === 'string') assert.equal(r.stdout, line);
    else assert.match(r.stdout, line);
    assert.equal(r.stderr, '');
  }
}

/** check-disk --json for `args`. */
function json(args: readonly string[], env: Record<string, string> = {}): Record<string, unknown> {
  return JSON.parse(cli(['check-disk', '--json', ...args], { env, cwd: '/' }).stdout) as Record<string, unknown>;
}

/** The inode figures of check-disk --json for `path`. */
function inodeFigures(path: string): unknown[] {
  const doc = json(['--path', path]);
  return [doc.free_inodes, doc.total_inodes, doc.warn_inodes, doc.critical_inodes];
}

/** Fills `dir` with empty files until its filesystem has `free` inodes left. */
function fillInodes(dir: string, free: number): void {
  for (let n = statfs(dir).freeInodes; n > free; n--) closeSync(openSync(join(dir, `f${n}`), 'w'));
  assert.equal(statfs(dir).freeInodes, free);
}

describe('check-disk on filesystems of known size', () => {
  // An empty directory takes no block on a tmpfs: 512m is exactly at the critical threshold, which is not below it.
  const sizes: [string, Status][] = [['300m', 'CRITICAL'], ['511m', 'CRITICAL'], ['512m', 'WARNING'], ['2047m', 'WARNING'], ['2048m', 'OK'], ['4g', 'OK']];
  for (const [size, status] of sizes) {
    test(`${size}: ${status}, exit ${CODES[status].join(' and --healthcheck ')}, with its line`, (t) => {
      if (!needsRoot(t) || !needsProgram(t, 'stat')) return;
      const hls = join(mount(t, size), 'hls');
      mkdirSync(hls);
      const line = expectedLine(hls, status);
      assertCheck(['--path', hls], status, line);
      assertCheck([], status, line, { HLS_TEMP_DIR: hls });
      const st = statfs(hls);
      assert.deepEqual(json(['--path', hls]), {
        status, path: hls, measured_path: hls, free_bytes: st.free, total_bytes: st.total, warn_bytes: WARN, critical_bytes: CRITICAL,
        free_inodes: st.freeInodes, total_inodes: st.inodes, warn_inodes: Math.ceil(st.inodes / 10), critical_inodes: Math.ceil(st.inodes / 20),
        message: line.slice(`DISK ${status} - `.length, line.indexOf(' | ')),
      });
    });
  }

  test('a path holding | and line breaks: one line, escaped, and the performance data after the only | ', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'stat')) return;
    const fs = mountTmpfs(t, join(tempDir(t), 'f|s'), '300m', ['mode=0755']);
    const hls = join(fs, 'a|b\nc\x1b[1m');
    mkdirSync(hls);
    const shown = `${fs.replace('|', '\\x7c')}/a\\x7cb\\nc\\x1b[1m`;
    assertCheck(['--path', hls], 'CRITICAL', expectedLine(hls, 'CRITICAL', shown));
    assert.equal(json(['--path', hls]).path, hls, 'JSON keeps the path as it is');
  });

  test('a path whose bytes are not UTF-8 cannot be named exactly: UNKNOWN, not its parent measured as if it were missing', (t) => {
    if (!needsRoot(t)) return;
    const fs = mount(t, '300m');
    mkdirSync(Buffer.concat([Buffer.from(`${fs}/caf`), Buffer.from([0xe9])]));
    // Only a shell can pass such bytes: Node.js encodes every argument it spawns with as UTF-8.
    for (const [extra, code] of [['', 3], ['--healthcheck', 1]] as const) {
      const r = spawnSync('sh', ['-c', `"${BIN}" check-disk ${extra} --path "$(printf '${fs}/caf\\351')"`], { cwd: '/', env: { PATH }, encoding: 'utf8' });
      assert.equal(r.status, code);
      assert.equal(r.stdout, 'DISK UNKNOWN - the path holds U+FFFD, which is what bytes that are not UTF-8 read as, so it cannot be named exactly; give its UTF-8 name, or a parent\n');
    }
  });

  test('at a threshold is not below it: the plugin range N: is inclusive, to the byte', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'stat')) return;
    const fs = mount(t, '1g');
    const { free, total } = statfs(fs);
    const status = (...args: string[]): unknown => json(['--path', fs, ...args]).status;
    assert.equal(status('--warn', `${free}B`, '--critical', `${free}B`), 'OK');
    assert.equal(status('--warn', `${free + 1}B`, '--critical', `${free}B`), 'WARNING');
    assert.equal(status('--warn', `${free + 1}B`, '--critical', `${free + 1}B`), 'CRITICAL');
    assert.equal(status('--warn', String(free / MiB)), 'OK');
    assert.equal(status('--warn', String(free / MiB + 1)), 'WARNING');
    const percent = json(['--path', fs, '--warn', '50%', '--critical', '10%']);
    assert.deepEqual([percent.status, percent.warn_bytes, percent.critical_bytes], ['OK', Math.ceil(total / 2), Math.ceil(total / 10)]);
    assert.equal(status('--warn', '2G', '--critical', '1.5G'), 'CRITICAL');
  });

  test('source names with spaces and digits, which df output cannot be split on, are measured exactly', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'stat')) return;
    for (const source of ['my 2fs', '//nas/TV 4K', '10 20 30 40% /x']) {
      const fs = mount(t, '10m', [], source);
      // df prints the name as it is, so its columns cannot be told apart by whitespace.
      assert.ok(sh(`df -P '${fs}'`).split('\n')[1]?.startsWith(`${source} `));
      assertCheck(['--path', fs], 'CRITICAL', expectedLine(fs, 'CRITICAL'));
      assert.equal(json(['--path', fs]).total_bytes, 10 * MiB);
    }
  });

  test('a path that does not exist yet is measured on its nearest existing parent, and the line says so', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'stat')) return;
    const fs = mount(t, '4g');
    const deep = join(fs, 'not', 'there', 'yet');
    assertCheck(['--path', deep], 'OK', expectedLine(fs, 'OK', `${fs} (nearest existing parent of ${deep})`));
    assert.deepEqual([json(['--path', deep]).path, json(['--path', deep]).measured_path], [deep, fs]);
    // A file where a directory of the path would be: the file's filesystem is the one.
    writeFileSync(join(fs, 'file'), '');
    assert.deepEqual([json(['--path', join(fs, 'file', 'x')]).measured_path, json(['--path', join(fs, 'file', 'x')]).status], [join(fs, 'file'), 'OK']);
    // Relative to the working directory.
    const relative = JSON.parse(cli(['check-disk', '--json', '--path', 'a/b'], { cwd: fs }).stdout) as Record<string, unknown>;
    assert.deepEqual([relative.path, relative.measured_path], [join(fs, 'a', 'b'), fs]);
  });
});

describe('inodes', () => {
  test('a tmpfs with few inodes, filled with empty files: WARNING below 10% free, CRITICAL below 5%, as the defaults say', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'stat')) return;
    const fs = mount(t, '4g', ['nr_inodes=1000']);
    assert.equal(statfs(fs).inodes, 1000);
    const steps: [number, Status][] = [[999, 'OK'], [100, 'OK'], [99, 'WARNING'], [50, 'WARNING'], [49, 'CRITICAL'], [0, 'CRITICAL']];
    for (const [free, status] of steps) {
      fillInodes(fs, free);
      assertCheck(['--path', fs], status, expectedLine(fs, status));
      assert.deepEqual(inodeFigures(fs), [free, 1000, 100, 50]);
    }
  });

  test('--inode-warn and --inode-critical, and the variables, move the thresholds', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'stat')) return;
    const fs = mount(t, '4g', ['nr_inodes=1000']);
    fillInodes(fs, 99);
    const check = (args: string[], env: Record<string, string> = {}): unknown[] => {
      const doc = json(['--path', fs, ...args], env);
      return [doc.status, doc.warn_inodes, doc.critical_inodes];
    };
    assert.deepEqual(check([]), ['WARNING', 100, 50]);
    assert.deepEqual(check(['--inode-warn', '9.9%']), ['OK', 99, 50]);
    assert.deepEqual(check(['--inode-warn', '20', '--inode-critical', '10']), ['CRITICAL', 200, 100]);
    assert.deepEqual(check([], { HLS_DISK_INODES_WARN_PERCENT: '9.9', HLS_DISK_INODES_CRITICAL_PERCENT: '1' }), ['OK', 99, 10]);
    assert.deepEqual(check(['--inode-critical', '9.95'], { HLS_DISK_INODES_WARN_PERCENT: '9.9' }), ['UNKNOWN', null, null]);
  });

  test('a filesystem that reports no inode figures skips the inode verdict and says so', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'stat')) return;
    const fs = mount(t, '4g', ['nr_inodes=0']);
    const st = statfs(fs);
    assert.deepEqual([st.inodes, st.freeInodes], [0, 0]);
    assertCheck(['--path', fs], 'OK', `DISK OK - ${fs}: 4 GiB free of 4 GiB; inodes not reported by the filesystem, not checked`
      + ` | free=${st.free}B;${WARN}:;${CRITICAL}:;0;${st.total}\n`);
    assert.deepEqual(inodeFigures(fs), [null, null, null, null]);
  });
});

describe('UNKNOWN: one line whatever kept the check from a verdict', () => {
  test('a filesystem without blocks, such as /proc', () => {
    assertCheck(['--path', '/proc/self'], 'UNKNOWN', 'DISK UNKNOWN - the filesystem of /proc/self reports no blocks: a pseudo filesystem such as proc holds no files\n');
    assert.deepEqual(json(['--path', '/proc/self']), {
      status: 'UNKNOWN', path: '/proc/self', measured_path: '/proc/self', free_bytes: null, total_bytes: null, warn_bytes: null, critical_bytes: null,
      free_inodes: null, total_inodes: null, warn_inodes: null, critical_inodes: null,
      message: 'the filesystem of /proc/self reports no blocks: a pseudo filesystem such as proc holds no files',
    });
  });

  test('a path statfs may not read', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'setpriv')) return;
    const runner = ensureUser('hlsb-runner');
    const locked = join(tempDir(t), 'hls');
    for (const [args, code] of [[[], 3], [['--healthcheck'], 1]] as const) {
      const r = cli(['check-disk', '--path', locked, ...args], { cwd: '/', setpriv: [`--reuid=${runner.uid}`, `--regid=${runner.gid}`, '--clear-groups'] });
      assert.equal(r.code, code);
      assert.equal(r.stdout, `DISK UNKNOWN - cannot measure the filesystem of ${locked}: permission denied (EACCES)\n`);
      assert.equal(r.stderr, '');
    }
  });

  test('thresholds that make no sense', () => {
    const cases: [string[], string][] = [
      [['--warn', '1G', '--critical', '2G'], 'the critical threshold (2 GiB) is above the warning threshold (1 GiB)'],
      [['--warn', '-1G'], '--warn "-1G" is not a size: expected 2G, 500M, 524288K, a number of MiB, or a percentage such as 10%'],
      [['--critical', 'lots'], '--critical "lots" is not a size: expected 2G, 500M, 524288K, a number of MiB, or a percentage such as 10%'],
      [['--warn', '150%'], '--warn "150%" is not a size: expected 2G, 500M, 524288K, a number of MiB, or a percentage such as 10%'],
      [['--inode-warn', '5', '--inode-critical', '6'], 'the critical inode threshold (6%) is above the warning one (5%)'],
      [['--inode-critical', 'x'], '--inode-critical "x" is not valid: expected a percentage of all inodes from 0 to 100, such as 10 or 2.5%'],
    ];
    for (const [args, reason] of cases) assertCheck(['--path', '/tmp', ...args], 'UNKNOWN', `DISK UNKNOWN - ${reason}\n`);
  });

  test('usage errors: the reason in the line, nothing on stderr; --json gives an object', () => {
    const cases: [string[], string][] = [
      [['--bogus'], "unknown option '--bogus'"],
      [['--warm', '1G'], "unknown option '--warm' (Did you mean --warn?)"],
      [['--warn'], "option '--warn <size>' argument missing"],
      [['extra'], "too many arguments for 'check-disk'. Expected 0 arguments but got 1: extra"],
    ];
    for (const [args, reason] of cases) assertCheck(args, 'UNKNOWN', `DISK UNKNOWN - ${reason}; see hls-bootstrap check-disk --help\n`);
    const doc = json(['--bogus']);
    assert.deepEqual([doc.status, doc.message, doc.free_bytes], ['UNKNOWN', "unknown option '--bogus'; see hls-bootstrap check-disk --help", null]);
  });

  test('invalid variables and unreadable env files: every problem in the line', () => {
    assertCheck([], 'UNKNOWN', 'DISK UNKNOWN - HLS_DISK_WARN_MB="2G" is not valid: expected an integer number of MiB\n', { HLS_DISK_WARN_MB: '2G' });
    assertCheck([], 'UNKNOWN', 'DISK UNKNOWN - HLS_DISK_INODES_WARN_PERCENT="lots" is not valid: expected a percentage from 0 to 100, '
      + 'such as 10 or 2.5%, with at most two decimals; HLS_DISK_INODES_CRITICAL_PERCENT="200" is not valid: expected a percentage as '
      + 'HLS_DISK_INODES_WARN_PERCENT, at most that\n', { HLS_DISK_INODES_WARN_PERCENT: 'lots', HLS_DISK_INODES_CRITICAL_PERCENT: '200' });
    assertCheck(['--env-file', '/nonexistent.env'], 'UNKNOWN', 'DISK UNKNOWN - --env-file /nonexistent.env: cannot read it: no such file or directory (ENOENT)\n');
  });
});

describe('the disk step of the startup: the same thresholds and verdict', () => {
  function prepare(t: TestContext, hls: string, env: Record<string, string> = {}): CliResult & { cwd: string } {
    const cwd = tempDir(t);
    return { ...cli(['prepare'], { cwd, env: { HLS_TEMP_DIR: hls, ...renderTo(cwd), ...env } }), cwd };
  }

  const sizes: [string, Status][] = [['300m', 'CRITICAL'], ['1g', 'WARNING'], ['4g', 'OK']];
  for (const [size, status] of sizes) {
    test(`${size}: the old script's lines, and the inodes`, (t) => {
      if (!needsRoot(t) || !needsProgram(t, 'stat')) return;
      const hls = join(mount(t, size), 'hls');
      const r = prepare(t, hls);
      const st = statfs(hls);
      const mb = Math.floor(st.free / MiB);
      assert.match(r.stdout, new RegExp(` {3}Available disk space: ${Math.floor(mb / 1024)}GB \\(${mb}MB\\)\\n`
        + ` {3}Available inodes: ${st.freeInodes} of ${st.inodes} \\(${share(st.freeInodes, st.inodes)}\\)\\n✅ HLS storage configured\\n`));
      assert.equal(/WARNING: Low disk space for HLS segments!/.test(r.stderr), status !== 'OK');
      assert.equal(/🔴 CRITICAL: Very low disk space!/.test(r.stderr), status === 'CRITICAL');
      assert.doesNotMatch(r.stderr, /inodes/);
      // A critical disk does not stop the start unless asked to.
      assert.equal(r.code, 0, r.stderr);
      // The step's record is check-disk's result for the same directory, key for key.
      const doc = JSON.parse(cli(['prepare', '--json'], { cwd: r.cwd, env: { HLS_TEMP_DIR: hls, ...renderTo(r.cwd) } }).stdout) as { steps: { disk: unknown } };
      assert.deepEqual(doc.steps.disk, json(['--path', hls]));
    });
  }

  test('HLS_DISK_CRITICAL_ACTION=fail stops a critical start with 75, for space and for inodes', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'stat')) return;
    const small = join(mount(t, '300m'), 'hls');
    const r = prepare(t, small, { HLS_DISK_CRITICAL_ACTION: 'fail' });
    assert.equal(r.code, 75, r.stderr);
    assert.match(r.stderr, /HLS_DISK_CRITICAL_ACTION=fail: the start-up stops here/);
    assert.match(r.stderr, /hls-bootstrap: free disk space is critical: \d+MB where .* is, below HLS_DISK_CRITICAL_MB=512; not starting/);
    assert.ok(!existsSync(join(r.cwd, 'supervisord.conf')), 'the steps after the disk step did not run');

    const fs = mount(t, '4g', ['nr_inodes=1000']);
    const hls = join(fs, 'hls');
    assert.equal(prepare(t, hls).code, 0);
    fillInodes(fs, 99);
    const warning = prepare(t, hls, { HLS_DISK_CRITICAL_ACTION: 'fail' });
    assert.equal(warning.code, 0, warning.stderr);
    assert.match(warning.stdout, / {3}Available inodes: 99 of 1000 \(9\.9%\)\n/);
    assert.match(warning.stderr, /⚠️ {2}WARNING: Few free inodes for HLS segments!\n {6}99 of 1000 inodes free \(9\.9%\) where .* is; at least 10% is recommended\./);
    assert.doesNotMatch(warning.stderr, /CRITICAL/);
    fillInodes(fs, 49);
    const critical = prepare(t, hls, { HLS_DISK_CRITICAL_ACTION: 'fail' });
    assert.equal(critical.code, 75, critical.stderr);
    assert.match(critical.stderr, /🔴 CRITICAL: Very few free inodes!\n {6}Below 5% \(HLS_DISK_INODES_CRITICAL_PERCENT\)/);
    assert.match(critical.stderr, /\nhls-bootstrap: free inodes are critical: 49 of 1000 inodes free \(4\.9%\) where .* is, below HLS_DISK_INODES_CRITICAL_PERCENT=5; not starting \(HLS_DISK_CRITICAL_ACTION=fail\)\n$/);
    assert.ok(!existsSync(join(critical.cwd, 'supervisord.conf')));
  });

  test('thresholds from the variables, and a filesystem without inode figures', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'stat')) return;
    const hls = join(mount(t, '1g', ['nr_inodes=0']), 'hls');
    const env = { HLS_DISK_WARN_MB: '100', HLS_DISK_CRITICAL_MB: '50', HLS_DISK_INODES_WARN_PERCENT: '20', HLS_DISK_INODES_CRITICAL_PERCENT: '1' };
    const r = prepare(t, hls, env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, / {3}Available inodes: not reported by this filesystem, not checked\n/);
    assert.equal(r.stderr, '');
    const doc = JSON.parse(cli(['prepare', '--json'], { cwd: r.cwd, env: { HLS_TEMP_DIR: hls, ...renderTo(r.cwd), ...env } }).stdout) as { steps: { disk: Record<string, unknown> } };
    assert.deepEqual(doc.steps.disk, json(['--path', hls], env));
    assert.deepEqual([doc.steps.disk.status, doc.steps.disk.warn_bytes, doc.steps.disk.critical_bytes, doc.steps.disk.free_inodes], ['OK', 100 * MiB, 50 * MiB, null]);
  });

  test('invalid inode variables stop the start with 78, as every other', (t) => {
    const r = cli(['prepare'], { cwd: tempDir(t), env: { HLS_DISK_INODES_WARN_PERCENT: '1', HLS_DISK_INODES_CRITICAL_PERCENT: '2' } });
    assert.equal(r.code, 78);
    assert.equal(r.stderr, 'hls-bootstrap: HLS_DISK_INODES_CRITICAL_PERCENT="2" is not valid: it is above HLS_DISK_INODES_WARN_PERCENT (1); expected at most the warning level\n');
  });
});
