// The exec step with real processes: the same PID, real users, real signals, and the real supervisord.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { machine } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { BIN, NODE, ROOT, cli, defer, minimalEnv, renderTo, startCli, tempDir } from '../support/cli.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { reachableDir } from '../support/storage.ts';
import { STAND_IN, type StandInReport } from '../support/supervisord.ts';
import { ensureGroup, ensureUser, mountTmpfs } from '../support/system.ts';
import { readElf } from '../../src/5-exec/binary.ts';

/** The environment of a `run` in `dir`: an empty HLS directory and the shipped template rendered there. */
function runEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return { HLS_TEMP_DIR: join(dir, 'hls'), ...renderTo(dir), ...extra };
}

function standIn(dir: string): { argv: string[]; report: () => StandInReport } {
  const out = join(dir, 'report.json');
  return { argv: [NODE, STAND_IN, '--out', out], report: () => JSON.parse(readFileSync(out, 'utf8')) as StandInReport };
}

async function exitOf(child: ReturnType<typeof startCli>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

describe('exec', () => {
  test('the program takes over the process: the PID it reports is the PID hls-bootstrap was started with', async (t) => {
    const dir = tempDir(t);
    const child = startCli(['-q', 'run', '--', 'sh', '-c', 'echo $$'], { cwd: dir, env: runEnv(dir) });
    const { code, stdout, stderr } = await exitOf(child);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), String(child.pid));
  });

  test('as Docker passes a CMD after ENTRYPOINT ["hls-bootstrap", "run"]: options after the command are the command\'s', (t) => {
    const dir = tempDir(t);
    const r = cli(['-q', 'run', 'sh', '-c', 'echo "$0 $1"', 'zero', '--user'], { cwd: dir, env: runEnv(dir) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'zero --user\n');
  });

  test('the program gets the resolved environment: defaults, normalised values, the token, env-file variables', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'extra.env'), 'FROM_FILE=yes\nHLS_GC_INTERVAL=45\n');
    const program = standIn(dir);
    const r = cli(['-q', 'run', '--env-file', 'extra.env', '--', ...program.argv], { cwd: dir, env: runEnv(dir, { HLS_GC_ENABLED: 'Off', KEPT: 'as is' }) });
    assert.equal(r.code, 0, r.stderr);
    const { env } = program.report();
    assert.equal(env.FROM_FILE, 'yes');
    assert.equal(env.HLS_GC_INTERVAL, '45');
    assert.equal(env.HLS_GC_ENABLED, 'false');
    assert.equal(env.HLS_GC_AGE_THRESHOLD, '7200');
    assert.equal(env.KEPT, 'as is');
    assert.match(env.M3U_PROXY_TOKEN ?? '', /^[0-9a-f]{48}$/);
  });

  test('a missing command is 127 and a non-executable one 126, each with one line and no native stack', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'not-executable'), '#!/bin/sh\n');
    writeFileSync(join(dir, 'bad-interpreter'), '#!/no/such/shell\necho hi\n');
    writeFileSync(join(dir, 'not-a-program'), 'just text\n');
    chmodSync(join(dir, 'bad-interpreter'), 0o755);
    chmodSync(join(dir, 'not-a-program'), 0o755);
    const cases: [string[], number, RegExp][] = [
      [['no-such-command-anywhere'], 127, /^hls-bootstrap: no-such-command-anywhere: command not found on PATH\n$/],
      [['./missing-here'], 127, /^hls-bootstrap: \.\/missing-here: command not found\n$/],
      [[''], 127, /^hls-bootstrap: '': command not found \(the command is empty\)\n$/],
      [['./not-executable'], 126, /^hls-bootstrap: \.\/not-executable: cannot execute .*\/not-executable: uid \d+ .*may not execute it \(mode 0644, owner \d+:\d+\)\n$/],
      [['./bad-interpreter'], 126, /^hls-bootstrap: \.\/bad-interpreter: cannot execute .*: its interpreter \/no\/such\/shell cannot be used: \/no does not exist\n$/],
      [['./not-a-program'], 126, /^hls-bootstrap: \.\/not-a-program: cannot execute .*: it is neither a binary nor a script with a #! line \(ENOEXEC\)\n$/],
      [[dir], 126, /^hls-bootstrap: \S+: cannot execute \S+: it is a directory\n$/],
      [['/tmp'], 126, /^hls-bootstrap: \/tmp: cannot execute \/tmp: it is a directory\n$/],
      [['./bad-interpreter/'], 127, /^hls-bootstrap: \.\/bad-interpreter\/: command not found: \S+\/bad-interpreter is not a directory\n$/],
    ];
    for (const [command, code, message] of cases) {
      const r = cli(['-q', 'run', '--', ...command], { cwd: dir, env: runEnv(dir) });
      assert.equal(r.code, code, `${command.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /Native stack trace|Aborted|core dumped/);
    }
    assert.ok(!existsSync(join(dir, 'hls')), 'the command is checked before any step touches anything');
  });

  test('an empty executable file (ENOEXEC), and a program whose ELF loader is an empty file (EIO): 126, one line, never the native abort', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'empty'), '', { mode: 0o755 });
    const r = cli(['-q', 'run', '--', './empty'], { cwd: dir, env: runEnv(dir) });
    assert.equal(r.code, 126, r.stderr);
    assert.equal(r.stderr, `hls-bootstrap: ./empty: cannot execute ${join(dir, 'empty')}: it is an empty file, neither a binary nor a script with a #! line (ENOEXEC)\n`);
    // /bin/true with its loader's name replaced by an empty file's of the same length.
    const bin = readFileSync('/bin/true');
    const loader = readElf((offset, length) => bin.subarray(offset, offset + length), { machine: machine(), endianness: 'LE', pageSize: 4096 });
    assert.ok('interpreter' in loader && loader.interpreter.length > 16, 'the machine\'s /bin/true is dynamically linked');
    const emptyLoader = `/tmp/hlsb-${randomBytes(8).toString('hex')}`.padEnd(loader.interpreter.length, 'x');
    writeFileSync(emptyLoader, '', { mode: 0o755 });
    defer(t, () => {
      rmSync(emptyLoader, { force: true });
    });
    bin.write(emptyLoader, bin.indexOf(`${loader.interpreter}\0`), 'latin1');
    writeFileSync(join(dir, 'empty-loader'), bin, { mode: 0o755 });
    const l = cli(['-q', 'run', '--', './empty-loader'], { cwd: dir, env: runEnv(dir) });
    assert.equal(l.code, 126, l.stderr);
    assert.equal(l.stderr, `hls-bootstrap: ./empty-loader: cannot execute ${join(dir, 'empty-loader')}: its ELF interpreter ${emptyLoader} cannot be used: it is an empty file\n`);
    assert.ok(!existsSync(join(dir, 'hls')), 'refused before any step');
  });

  test('a script saved with Windows line endings: 126 on one legible line that names the carriage return', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'crlf'), '#!/bin/sh\r\necho hi\r\n', { mode: 0o755 });
    const r = cli(['-q', 'run', '--', './crlf'], { cwd: dir, env: runEnv(dir) });
    assert.equal(r.code, 126, r.stderr);
    assert.equal(r.stderr, `hls-bootstrap: ./crlf: cannot execute ${join(dir, 'crlf')}: its #! line ends in a carriage return, so the kernel looks for an interpreter named "/bin/sh\\r", which does not exist (a file saved with Windows line endings?)\n`);
    assert.doesNotMatch(r.stderr.slice(0, -1), /[\r\n]/);
  });

  test('an ELF program whose loader is missing, and one for another architecture: 126 naming why', (t) => {
    const dir = tempDir(t);
    // /bin/true with the last letter of its loader's name changed: the kernel would say ENOENT.
    const bin = readFileSync('/bin/true');
    const loader = readElf((offset, length) => bin.subarray(offset, offset + length), { machine: machine(), endianness: 'LE', pageSize: 4096 });
    assert.ok('interpreter' in loader && loader.interpreter !== '', 'the machine\'s /bin/true is dynamically linked');
    const at = bin.indexOf(`${loader.interpreter}\0`);
    bin[at + loader.interpreter.length - 1] = 0x51;
    writeFileSync(join(dir, 'other-libc'), bin, { mode: 0o755 });
    const foreign = Buffer.alloc(64);
    foreign.writeUInt32BE(0x7f454c46, 0);
    foreign.set([2, 1, 1], 4);
    foreign.writeUInt16LE(2, 16);
    foreign.writeUInt16LE(machine() === 'x86_64' ? 183 : 62, 18);
    writeFileSync(join(dir, 'foreign'), foreign, { mode: 0o755 });
    const missing = cli(['-q', 'run', '--', './other-libc'], { cwd: dir, env: runEnv(dir) });
    assert.equal(missing.code, 126, missing.stderr);
    assert.match(missing.stderr, /^hls-bootstrap: \.\/other-libc: cannot execute \S+: its ELF interpreter \S+Q cannot be used: \S+ does not exist \(a binary built for another C library\?\)\n$/);
    const other = cli(['-q', 'run', '--', './foreign'], { cwd: dir, env: runEnv(dir) });
    assert.equal(other.code, 126, other.stderr);
    assert.match(other.stderr, /^hls-bootstrap: \.\/foreign: cannot execute \S+: it is a 64-bit little-endian binary for another architecture \(ELF machine \d+\), and this kernel is \w+\n$/);
    assert.ok(!existsSync(join(dir, 'hls')));
  });

  test('a program on a noexec mount: 126 naming the mount', (t) => {
    if (!needsRoot(t)) return;
    const dir = tempDir(t);
    const mount = mountTmpfs(t, join(dir, 'noexec'), '4m', ['noexec']);
    copyFileSync('/bin/true', join(mount, 'true'));
    const r = cli(['-q', 'run', '--', join(mount, 'true')], { cwd: dir, env: runEnv(dir) });
    assert.equal(r.code, 126, r.stderr);
    assert.equal(r.stderr, `hls-bootstrap: ${join(mount, 'true')}: cannot execute ${join(mount, 'true')}: it lies on ${mount}, which is mounted noexec\n`);
  });

  test('an environment the kernel would refuse (too long, too much, a NUL) is 78 naming the variable, before any step', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'big.env'), `BIG=${'x'.repeat(200 * 1024)}\n`);
    const big = cli(['-q', 'run', '--env-file', 'big.env', '--', 'true'], { cwd: dir, env: runEnv(dir) });
    assert.equal(big.code, 78, big.stderr);
    assert.equal(big.stderr, 'hls-bootstrap: cannot exec true: the variable BIG takes 204,805 bytes, more than the 131,072 bytes the kernel allows one argument or variable (MAX_ARG_STRLEN)\n');
    // Each fits, all of them do not: a quarter of the stack limit hls-bootstrap inherits from here, at most 6 MiB.
    const stack = /^Max stack size\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 'unlimited';
    const limit = Math.max(Math.min(6 * 1024 * 1024, stack === 'unlimited' ? Infinity : Math.floor(Number(stack) / 4)), 128 * 1024);
    const count = Math.ceil(limit / 100_000) + 3;
    writeFileSync(join(dir, 'many.env'), Array.from({ length: count }, (_, i) => `V${i}=${'y'.repeat(100_000 + i)}\n`).join(''));
    const many = cli(['-q', 'run', '--env-file', 'many.env', '--', 'true'], { cwd: dir, env: runEnv(dir) });
    assert.equal(many.code, 78, many.stderr);
    const largest = (i: number): string => `the variable V${i} \\(${(100_000 + i + `V${i}=`.length + 1).toLocaleString('en-US')} bytes\\)`;
    assert.match(many.stderr, new RegExp(`^hls-bootstrap: cannot exec true: the environment and arguments take [\\d,]+ bytes, and their pointers [\\d,]+ bytes more, beyond the ${limit.toLocaleString('en-US')} bytes execve allows with a stack limit of (\\d+ KiB|unlimited) \\(ulimit -s\\): the largest are ${largest(count - 1)}, ${largest(count - 2)}(, the variable V\\d+ \\([\\d,]+ bytes\\))*\\n$`));
    writeFileSync(join(dir, 'nul.env'), 'NULVAR=a\0b\n');
    const nul = cli(['-q', 'run', '--env-file', 'nul.env', '--', 'true'], { cwd: dir, env: runEnv(dir) });
    assert.equal(nul.code, 78, nul.stderr);
    assert.equal(nul.stderr, 'hls-bootstrap: cannot exec true: the variable NULVAR holds a NUL byte, which execve cannot pass\n');
    assert.doesNotMatch(big.stderr + many.stderr + nul.stderr, /Native stack trace/);
    assert.ok(!existsSync(join(dir, 'hls')), 'refused before any step');
  });

  test('a variable or argument whose bytes are not UTF-8 is 78 naming it, before any step: Node.js would pass on U+FFFD in their place', (t) => {
    const dir = tempDir(t);
    // Latin-1 bytes, as a shell passes them on untouched: "café" in the environment, "naïve" as an argument.
    const script = 'LATIN=$(printf "caf\\351") && export LATIN && exec "$0" -q run -- printf "%s" "$(printf "na\\357ve")"';
    const r = spawnSync('sh', ['-c', script, BIN], { cwd: dir, env: minimalEnv(dir, runEnv(dir)), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    assert.equal(r.status, 78, r.stderr);
    assert.equal(r.stderr, [
      'hls-bootstrap: cannot exec printf: the variable LATIN holds bytes that are not UTF-8, which Node.js can pass on only as U+FFFD: the program would get it changed',
      'hls-bootstrap: cannot exec printf: argument 2 of the command holds bytes that are not UTF-8, which Node.js can pass on only as U+FFFD: the program would get it changed',
      '',
    ].join('\n'));
    assert.ok(!existsSync(join(dir, 'hls')), 'refused before any step');
    // U+FFFD itself, as UTF-8, is passed on as it is.
    const replacement = cli(['-q', 'run', '--', 'printf', '%s', '\uFFFD'], { cwd: dir, env: runEnv(dir, { KEPT: '\uFFFD' }) });
    assert.equal(replacement.code, 0, replacement.stderr);
    assert.equal(replacement.stdout, '\uFFFD');
  });

  test('the program starts with every signal at its default action, not with SIGPIPE ignored as Node has it', (t) => {
    const dir = tempDir(t);
    const r = cli(['-q', 'run', '--', 'sh', '-c', 'grep -E "^Sig(Blk|Ign)" /proc/self/status'], { cwd: dir, env: runEnv(dir) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  });

  test('the program starts with the descriptors, working directory and umask hls-bootstrap was started with, after steps that opened handles', (t) => {
    const dir = tempDir(t);
    // A stream directory and a tree to walk: the steps open and chdir through handles.
    mkdirSync(join(dir, 'hls', 'm3u_proxy_hls_1'), { recursive: true });
    mkdirSync(join(dir, 'hls', 'kept', 'deeper'), { recursive: true });
    mkdirSync(join(dir, 'work'));
    const script = ['sh', '-c', 'ls /proc/$$/fd; readlink /proc/$$/cwd; umask'];
    const started = (command: string[]): SpawnSyncReturns<string> => spawnSync('sh', ['-c', 'umask 0027 && exec "$0" "$@"', ...command], {
      cwd: join(dir, 'work'), env: minimalEnv(dir, runEnv(dir)), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8',
    });
    // The same program started without hls-bootstrap: what this test passes on, whatever it inherited itself.
    const direct = started(script);
    assert.match(direct.stdout, new RegExp(`^0\n1\n2\n(\\d+\n)*${join(dir, 'work')}\n0027\n$`));
    for (const supervise of [[], ['--supervise']]) {
      const r = started([BIN, '-q', 'run', ...supervise, '--', ...script]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, direct.stdout, supervise.join(''));
    }
  });

  test('started in a working directory that was removed: 78 and one line, not a stack', (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'gone'));
    const r = spawnSync('sh', ['-c', 'rmdir "$PWD" && exec "$0" "$@"', BIN, '-q', 'run', '--', 'touch', join(dir, 'ran')], {
      cwd: join(dir, 'gone'), env: minimalEnv(dir, runEnv(dir)), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8',
    });
    assert.equal(r.status, 78, r.stderr);
    // The shell of bin/hls-bootstrap may say the same first ("sh: 0: getcwd() failed").
    assert.match(r.stderr, /(^|\n)hls-bootstrap: its working directory was removed \(getcwd: ENOENT\); start it in one that exists\n$/);
    assert.doesNotMatch(r.stderr, /node:internal|\n\s+at /);
    assert.ok(!existsSync(join(dir, 'hls')) && !existsSync(join(dir, 'ran')));
  });

  test('--dry-run prints the argv, the user and the environment keys, and execs nothing', (t) => {
    const dir = tempDir(t);
    const r = cli(['run', '--dry-run', '--', 'sh', '-c', 'touch ran'], { cwd: dir, env: runEnv(dir) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[dry run\] would exec \/\S+\/sh: sh -c 'touch ran'\n/);
    assert.match(r.stdout, /\[dry run\] would run it as the current user \(uid \d+\)\n/);
    assert.match(r.stdout, /\[dry run\] would pass \d+ environment variables: .*HLS_TEMP_DIR .*M3U_PROXY_TOKEN .*PATH/);
    assert.ok(!existsSync(join(dir, 'ran')));
    const supervisord = cli(['run', '--dry-run'], { cwd: dir, env: runEnv(dir) });
    assert.match(supervisord.stdout, new RegExp(`would exec \\S*supervisord: supervisord -c ${join(dir, 'supervisord.conf')}\\n`));
  });
});

describe('--user and EXEC_USER', () => {
  const report = (t: TestContext, args: string[], env: Record<string, string> = {}): StandInReport => {
    const dir = tempDir(t);
    // The program, running as another user, writes its report here.
    chmodSync(dir, 0o777);
    const program = standIn(dir);
    const r = cli(['-q', 'run', ...args, '--', ...program.argv], { cwd: dir, env: runEnv(dir, env) });
    assert.equal(r.code, 0, r.stderr);
    return program.report();
  };

  test('a named user: its uid, primary gid, supplementary groups and HOME, as su-exec sets them', (t) => {
    if (!needsRoot(t)) return;
    // A user of its own: users are kept between tests and runs, and another test may add a shared one to its groups.
    const user = ensureUser('hlsb-exec');
    const media = ensureGroup('hlsb-media', [user.name]);
    for (const [args, env] of [[['--user', user.name], {}], [[], { EXEC_USER: user.name }]] as const) {
      const r = report(t, [...args], env);
      assert.deepEqual([r.uid, r.gid, [...r.groups].sort((a, b) => a - b)], [user.uid, user.gid, [user.gid, media].sort((a, b) => a - b)]);
      assert.equal(r.home, '/home/hlsb-exec');
    }
  });

  test('USER:GROUP and numeric ids without a database entry', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const media = ensureGroup('hlsb-media', [user.name]);
    const named = report(t, ['--user', `${user.name}:hlsb-media`]);
    assert.deepEqual([named.uid, named.gid, named.groups], [user.uid, media, [media]]);
    const numeric = report(t, ['--user', '4242:4343']);
    assert.deepEqual([numeric.uid, numeric.gid, numeric.groups, numeric.home], [4242, 4343, [4343], '/']);
  });

  test('as another user: a program only root may run, an interpreter or a directory it may not use, a directory, an empty command', (t) => {
    if (!needsRoot(t)) return;
    const user = ensureUser('hlsb-www');
    const dir = reachableDir(t);
    writeFileSync(join(dir, 'root-only'), '#!/bin/sh\necho ran\n', { mode: 0o744 });
    copyFileSync('/bin/true', join(dir, 'private-interpreter'));
    chmodSync(join(dir, 'private-interpreter'), 0o700);
    writeFileSync(join(dir, 'script'), `#!${join(dir, 'private-interpreter')}\n`, { mode: 0o755 });
    mkdirSync(join(dir, 'locked'), { mode: 0o700 });
    copyFileSync('/bin/true', join(dir, 'locked', 'true'));
    chmodSync(join(dir, 'locked', 'true'), 0o755);
    mkdirSync(join(dir, 'a-directory'));
    const who = `uid ${user.uid} \\(gid ${user.gid}, groups [\\d,]+\\)`;
    const cases: [string, number, RegExp][] = [
      ['./root-only', 126, new RegExp(`^hls-bootstrap: \\./root-only: cannot execute \\S+/root-only: ${who} may not execute it \\(mode 0744, owner 0:0\\)\\n$`)],
      ['./script', 126, new RegExp(`^hls-bootstrap: \\./script: cannot execute \\S+/script: its interpreter \\S+/private-interpreter cannot be used: ${who} may not execute it \\(mode 0700, owner 0:0\\)\\n$`)],
      ['./locked/true', 126, new RegExp(`^hls-bootstrap: \\./locked/true: cannot execute \\S+/locked/true: uid ${user.uid} may not search the directory \\S+/locked \\(mode 0700, owner 0:0\\)\\n$`)],
      ['./a-directory', 126, /^hls-bootstrap: \.\/a-directory: cannot execute \S+\/a-directory: it is a directory\n$/],
      ['', 127, /^hls-bootstrap: '': command not found \(the command is empty\)\n$/],
    ];
    // Switched to by root with --user, and started as that user with setpriv: the same verdicts.
    const setpriv = [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups'];
    for (const [command, code, message] of cases) {
      for (const [args, options] of [[['--user', user.name], {}], [[], { setpriv }]] as const) {
        const r = cli(['-q', 'run', ...args, '--', command], { cwd: dir, env: runEnv(dir), ...options });
        assert.equal(r.code, code, `${args.join(' ')} ${command}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, /Native stack trace|Aborted|core dumped/);
      }
    }
    assert.ok(!existsSync(join(dir, 'hls')), 'each was refused before any step');
    // What the user may run, it runs: root's own checks are not the user's.
    const runs = cli(['-q', 'run', '--user', user.name, '--', 'sh', '-c', 'id -u'], { cwd: dir, env: runEnv(dir) });
    assert.equal(runs.code, 0, runs.stderr);
    assert.equal(runs.stdout, `${user.uid}\n`);
  });

  test('a user at its process limit (RLIMIT_NPROC): this process\'s threads count as its processes, so 78 before any step or 126 at the last look, never the native abort', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'prlimit')) return;
    // A user of its own: the kernel counts every process of a uid, whichever test started it.
    const user = ensureUser('hlsb-nproc');
    const dir = reachableDir(t);
    const limited = (limit: number, args: string[]): { code: number | null; stdout: string; stderr: string } => {
      const r = spawnSync('prlimit', [`--nproc=${limit}`, '--', BIN, ...args], { cwd: dir, env: minimalEnv(dir, runEnv(dir)), encoding: 'utf8', timeout: 60_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    // Fewer than Node's own threads: the switch alone puts the user over, which is known before any step.
    const few = limited(2, ['-q', 'run', '--user', user.name, '--', 'touch', join(dir, 'ran')]);
    assert.equal(few.code, 78, few.stderr);
    assert.match(few.stderr, new RegExp(`^hls-bootstrap: cannot switch to user hlsb-nproc \\(--user or EXEC_USER\\): uid ${user.uid} may have at most 2 processes \\(RLIMIT_NPROC, ulimit -u\\), and from the switch on this process's own \\d+ threads count as its processes, so execve would fail \\(EAGAIN\\)\\n$`));
    assert.ok(!existsSync(join(dir, 'hls')), 'refused before any step');
    // Enough for the threads, not with the 30 processes the user already runs: only the kernel knows, after the switch.
    const sleepers = Array.from({ length: 30 }, () => spawn('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', 'sleep', '60'], { stdio: 'ignore' }));
    defer(t, () => {
      for (const sleeper of sleepers) sleeper.kill('SIGKILL');
    });
    await new Promise((r) => setTimeout(r, 500));
    const busy = limited(25, ['-q', 'run', '--user', user.name, '--', 'touch', join(dir, 'ran')]);
    assert.equal(busy.code, 126, busy.stderr);
    assert.match(busy.stderr, new RegExp(`^hls-bootstrap: cannot run touch as hlsb-nproc: uid ${user.uid} is over its limit of 25 processes \\(RLIMIT_NPROC, ulimit -u\\), counting this process's \\d+ threads and the processes it already runs, so execve would fail \\(EAGAIN\\)\\n$`));
    assert.ok(!existsSync(join(dir, 'ran')));
    // Room enough: it runs.
    const room = limited(200, ['-q', 'run', '--user', user.name, '--', 'sh', '-c', 'id -u']);
    assert.equal(room.code, 0, room.stderr);
    assert.equal(room.stdout, `${user.uid}\n`);
  });

  test('asking for a user when not root is a clear error, not a silent no-op', (t) => {
    if (!needsRoot(t)) return;
    const runner = ensureUser('hlsb-runner');
    const dir = tempDir(t);
    chmodSync(dir, 0o777);
    const r = cli(['run', '--user', 'root', '--', 'true'], { cwd: dir, env: runEnv(dir), setpriv: [`--reuid=${runner.uid}`, `--regid=${runner.gid}`, '--clear-groups'] });
    assert.equal(r.code, 78);
    assert.equal(r.stderr, `hls-bootstrap: switching to user root (--user or EXEC_USER) needs root, and hls-bootstrap runs as uid ${runner.uid}\n`);
    assert.ok(!existsSync(join(dir, 'hls')));
  });

  test('an unknown user is refused before anything is touched', (t) => {
    const dir = tempDir(t);
    const flag = cli(['run', '--user', 'no-such-user', '--', 'true'], { cwd: dir, env: runEnv(dir) });
    assert.equal(flag.code, 78);
    assert.match(flag.stderr, /--user "no-such-user" is not valid: there is no user named "no-such-user"/);
    const variable = cli(['run', '--', 'true'], { cwd: dir, env: runEnv(dir, { EXEC_USER: 'root:no-such-group' }) });
    assert.equal(variable.code, 78);
    assert.match(variable.stderr, /EXEC_USER="root:no-such-group" is not valid: there is no group named "no-such-group"/);
    assert.ok(!existsSync(join(dir, 'hls')));
  });
});

describe('supervisord as the target: the users its config names', () => {
  const refused = (t: TestContext, templateText: string, env: Record<string, string>, line: string): void => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'template.conf'), templateText);
    const r = cli(['run'], { cwd: dir, env: runEnv(dir, { SUPERVISORD_TEMPLATE: join(dir, 'template.conf'), ...env }) });
    assert.equal(r.code, 78, r.stderr);
    assert.equal(r.stderr, `hls-bootstrap: ${line}\n`);
    assert.ok(!existsSync(join(dir, 'hls')) && !existsSync(join(dir, 'supervisord.conf')), 'refused before any step: nothing created');
  };
  const shipped = (): string => readFileSync(join(ROOT, 'docker', 'supervisord.conf'), 'utf8');

  test('WWWUSER as a bare uid without a user database entry, as a program\'s user=', (t) => {
    if (!needsProgram(t, 'supervisord')) return;
    assert.ok(!readFileSync('/etc/passwd', 'utf8').includes(':54321:'), 'uid 54321 has no entry here');
    refused(t, shipped().replace('user=%(ENV_SUPERVISOR_PHP_USER)s', 'user=%(ENV_WWWUSER)s'), { WWWUSER: '54321' },
      '[program:m3u-proxy] user=%(ENV_WWWUSER)s (54321): supervisord needs a user database entry even for a numeric uid, and /etc/passwd has none for 54321');
  });

  test('a SUPERVISOR_PHP_USER that does not exist', (t) => {
    if (!needsProgram(t, 'supervisord')) return;
    refused(t, shipped(), { SUPERVISOR_PHP_USER: 'no-such-user-here' },
      '[program:m3u-proxy] user=%(ENV_SUPERVISOR_PHP_USER)s (no-such-user-here): there is no user named "no-such-user-here" in the user database (/etc/passwd)');
  });

  test('a non-root [supervisord] user= while a program has user=root', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'supervisord')) return;
    const user = ensureUser('hlsb-www');
    const text = shipped().replace('[supervisord]\n', `[supervisord]\nuser=${user.name}\n`).replace('user=%(ENV_SUPERVISOR_PHP_USER)s', 'user=root');
    refused(t, text, {},
      `[program:m3u-proxy] user=root: supervisord runs as uid ${user.uid} ([supervisord] user=${user.name}), and a supervisord that is not root cannot start a program as another user`);
  });
});

describe('--supervise', () => {
  test('a child that traps SIGTERM and exits 7 makes hls-bootstrap exit 7 after SIGTERM is sent to it', async (t) => {
    const dir = tempDir(t);
    const child = startCli(['-q', 'run', '--supervise', '--', 'sh', '-c', 'trap "exit 7" TERM; echo ready; while :; do sleep 0.05; done'], { cwd: dir, env: runEnv(dir) });
    const result = exitOf(child);
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    }));
    child.kill('SIGTERM');
    assert.equal((await result).code, 7);
  });

  test('a child killed by SIGKILL gives 137; a child\'s own status 3 gives 3', async (t) => {
    const dir = tempDir(t);
    assert.equal(cli(['-q', 'run', '--supervise', '--', 'sh', '-c', 'kill -KILL $$'], { cwd: dir, env: runEnv(dir) }).code, 137);
    assert.equal(cli(['-q', 'run', '--supervise', '--', 'sh', '-c', 'exit 3'], { cwd: dir, env: runEnv(dir) }).code, 3);
    const usr1 = startCli(['-q', 'run', '--supervise', '--', 'sh', '-c', 'trap "exit 11" USR1; echo ready; while :; do sleep 0.05; done'], { cwd: dir, env: runEnv(dir) });
    const result = exitOf(usr1);
    await new Promise<void>((resolve) => usr1.stdout.on('data', () => {
      resolve();
    }));
    usr1.kill('SIGUSR1');
    assert.equal((await result).code, 11);
  });
});

test('the whole chain: run renders the shipped template and execs supervisord, whose m3u-proxy gets the expected environment', async (t) => {
  if (!needsProgram(t, 'supervisord')) return;
  const dir = tempDir(t);
  const program = standIn(dir);
  // The shipped template, with the proxy replaced by the stand-in and supervisord's own files kept in dir.
  // Its log goes to a file: Node gives a child sockets, not pipes, for stdout, and opening
  // /dev/stdout on a socket fails with ENXIO (Docker's stdout is a pipe).
  const template = readFileSync(join(ROOT, 'docker', 'supervisord.conf'), 'utf8')
    .replace('stdout_logfile=/dev/stdout', `stdout_logfile=${join(dir, 'proxy.log')}`)
    .replace('command=/usr/bin/python3 /opt/m3u-proxy/main.py', `command=${program.argv.join(' ')}\nstartsecs=0\nautorestart=false`)
    .replace('pidfile=/tmp/supervisord.pid', `pidfile=${join(dir, 'supervisord.pid')}`)
    .replace('file=/tmp/supervisor.sock', `file=${join(dir, 'supervisor.sock')}`);
  writeFileSync(join(dir, 'template.conf'), template);
  const child = startCli(['run'], { cwd: dir, env: runEnv(dir, { SUPERVISORD_TEMPLATE: join(dir, 'template.conf'), M3U_PROXY_TOKEN: 'chain-token', M3U_PROXY_PORT: '9999' }) });
  const result = exitOf(child);
  const deadline = Date.now() + 15_000;
  while (!existsSync(join(dir, 'report.json')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  const { stdout, stderr } = await result;
  assert.ok(existsSync(join(dir, 'report.json')), `the stand-in never ran:\n${stdout}\n${stderr}`);
  const report = program.report();
  assert.equal(report.ppid, child.pid, 'supervisord runs in the process hls-bootstrap was started as');
  assert.equal(report.env.API_TOKEN, 'chain-token');
  assert.equal(report.env.PORT, '9999');
  assert.equal(report.env.HLS_TEMP_DIR, join(dir, 'hls'));
  assert.match(stdout, new RegExp(`▶ exec supervisord -c ${join(dir, 'supervisord.conf')}\\n`));
});
