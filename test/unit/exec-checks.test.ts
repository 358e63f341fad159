// The exec checks' pure parts: the kernel's permission rule, #! and ELF parsing, mountinfo, argument limits, PATH search.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseShebang, readElf, type Kernel } from '../../src/5-exec/binary.ts';
import { MAY_EXEC, MAY_READ, mapped, parseStatus, permits, switchProblem, targetCredentials } from '../../src/5-exec/credentials.ts';
import { encodingProblems, undecodable } from '../../src/5-exec/encoding.ts';
import { argProblems, parsePageSize, parseStackLimit } from '../../src/5-exec/limits.ts';
import { mountOf, noexecMount, parseMountinfo } from '../../src/5-exec/mounts.ts';
import { nprocExceeded, nprocExceededProblem, nprocProblem, parseProcessLimit, parseThreads } from '../../src/5-exec/nproc.ts';
import { which } from '../../src/which.ts';

const ROOT = parseStatus('Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\nCapEff:\t000001ffffffffff\n', { euid: 0, egid: 0 });
const USER = targetCredentials(ROOT, { uid: 1000, gid: 1000, groups: [1000, 44], home: '/', label: 'u' });
const CAPLESS_ROOT = parseStatus('Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\nCapEff:\t0000000000000000\n', { euid: 0, egid: 0 });
const FILE = 0o100000;
const DIR = 0o040000;

describe('permits: generic_permission() from the mode bits', () => {
  const cases: [string, { mode: number; uid: number; gid: number }, typeof ROOT, number, boolean][] = [
    ['owner with x', { mode: FILE | 0o700, uid: 1000, gid: 0 }, USER, MAY_EXEC, true],
    ['owner without x, though others have it', { mode: FILE | 0o075, uid: 1000, gid: 0 }, USER, MAY_EXEC, false],
    ['a supplementary group', { mode: FILE | 0o710, uid: 0, gid: 44 }, USER, MAY_EXEC, true],
    ['group bits only, not a member', { mode: FILE | 0o710, uid: 0, gid: 45 }, USER, MAY_EXEC, false],
    ['others', { mode: FILE | 0o701, uid: 0, gid: 0 }, USER, MAY_EXEC, true],
    ['root with one x bit anywhere', { mode: FILE | 0o001, uid: 5, gid: 5 }, ROOT, MAY_EXEC, true],
    ['root and no x bit at all', { mode: FILE | 0o666, uid: 0, gid: 0 }, ROOT, MAY_EXEC, false],
    ['root searches any directory', { mode: DIR | 0o000, uid: 5, gid: 5 }, ROOT, MAY_EXEC, true],
    ['a user cannot search 0700 of another', { mode: DIR | 0o700, uid: 0, gid: 0 }, USER, MAY_EXEC, false],
    ['root without capabilities is an ordinary user', { mode: FILE | 0o744, uid: 5, gid: 5 }, CAPLESS_ROOT, MAY_EXEC, false],
    ['root reads an unreadable file', { mode: FILE | 0o000, uid: 5, gid: 5 }, ROOT, MAY_READ, true],
  ];
  for (const [name, inode, cred, mask, expected] of cases) {
    test(name, () => {
      assert.equal(permits(inode, cred, mask), expected);
    });
  }
});

test('a user switch: capabilities kept only by uid 0; missing CAP_SETUID, setgroups denied and unmapped ids refused', () => {
  assert.equal(USER.dacOverride, false);
  assert.equal(targetCredentials(ROOT, { uid: 0, gid: 5, groups: [5], home: '/', label: 'root:5' }).dacOverride, true);
  const user = { uid: 1000, gid: 1000, groups: [1000], home: '/', label: 'u' };
  const files = (over: Record<string, string>) => (name: string): string | undefined => over[name];
  assert.equal(switchProblem(user, ROOT, files({})), undefined);
  assert.equal(switchProblem(user, CAPLESS_ROOT, files({})), 'this process lacks CAP_SETGID and CAP_SETUID');
  assert.match(switchProblem(user, ROOT, files({ setgroups: 'deny\n' })) ?? '', /setgroups is denied/);
  assert.equal(switchProblem(user, ROOT, files({ uid_map: '         0     100000      65536\n', gid_map: '0 100000 65536\n' })), undefined);
  assert.equal(switchProblem({ ...user, groups: [1000, 70000] }, ROOT, files({ gid_map: '0 100000 65536\n' })), 'gid 70000 is not mapped in this user namespace');
  assert.equal(switchProblem({ ...user, uid: 70000 }, ROOT, files({ uid_map: '0 100000 65536\n' })), 'uid 70000 is not mapped in this user namespace');
  assert.equal(mapped(65535, '0 100000 65536\n'), true);
  assert.equal(mapped(4, '0 0 4294967295\n'), true);
});

describe('parseShebang: the #! line as load_script() reads it', () => {
  const cases: [string, ReturnType<typeof parseShebang>][] = [
    ['#!/bin/sh\necho', { interpreter: '/bin/sh', argument: undefined }],
    ['#! /usr/bin/env  python3 -u \n', { interpreter: '/usr/bin/env', argument: 'python3 -u' }],
    ['#!\t/bin/bash\t-e\n', { interpreter: '/bin/bash', argument: '-e' }],
    ['#!/bin/sh\0junk\n', { interpreter: '/bin/sh', argument: undefined }],
    ['#!\n', { problem: 'its #! line names no interpreter' }],
    ['#!   \t \n', { problem: 'its #! line names no interpreter' }],
    [`#!/${'x'.repeat(300)}`, { problem: 'its #! line has no end in the first 256 bytes, so the kernel cannot read the interpreter\'s name' }],
    [`#!/bin/sh ${'x'.repeat(300)}`, { interpreter: '/bin/sh', argument: 'x'.repeat(245) }],
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text.slice(0, 30)), () => {
      assert.deepEqual(parseShebang(Buffer.from(text)), expected);
    });
  }
});

/** A 64-bit little-endian ELF header with one program header, optionally PT_INTERP naming `interp`. */
function elf(machine: number, type = 3, interp?: string): Buffer {
  const name = interp === undefined ? Buffer.alloc(0) : Buffer.from(`${interp}\0`);
  const buf = Buffer.alloc(64 + 56 + name.length);
  buf.writeUInt32BE(0x7f454c46, 0);
  buf[4] = 2;
  buf[5] = 1;
  buf.writeUInt16LE(type, 16);
  buf.writeUInt16LE(machine, 18);
  buf.writeBigUInt64LE(64n, 32);
  buf.writeUInt16LE(56, 54);
  buf.writeUInt16LE(1, 56);
  buf.writeUInt32LE(interp === undefined ? 1 : 3, 64);
  buf.writeBigUInt64LE(120n, 64 + 8);
  buf.writeBigUInt64LE(BigInt(name.length), 64 + 32);
  name.copy(buf, 120);
  return buf;
}

describe('readElf: what binfmt_elf checks before the point of no return', () => {
  const kernel: Kernel = { machine: 'x86_64', endianness: 'LE', pageSize: 4096 };
  const judge = (file: Buffer, k = kernel) => readElf((offset, length) => file.subarray(offset, offset + length), k);
  test('a static program for this machine, and one naming its loader', () => {
    assert.deepEqual(judge(elf(62)), { interpreter: '' });
    assert.deepEqual(judge(elf(62, 2, '/lib64/ld-linux-x86-64.so.2')), { interpreter: '/lib64/ld-linux-x86-64.so.2' });
  });
  test('another architecture, an object file, a cut-off header, a damaged PT_INTERP', () => {
    assert.match((judge(elf(183)) as { problem: string }).problem, /another architecture \(ELF machine 183\), and this kernel is x86_64/);
    assert.deepEqual(judge(elf(62, 1)), { problem: 'it is a relocatable object file, not a program' });
    assert.deepEqual(judge(elf(62).subarray(0, 40)), { problem: 'it is a damaged ELF file (its header is cut short)' });
    const bad = elf(62, 3, '/lib/ld');
    bad[bad.length - 1] = 0x41;
    assert.deepEqual(judge(bad), { problem: 'its ELF interpreter (PT_INTERP) is damaged' });
  });
  test('an aarch64 kernel runs aarch64 and 32-bit arm, and an unknown machine is not judged', () => {
    assert.deepEqual(judge(elf(183), { ...kernel, machine: 'aarch64' }), { interpreter: '' });
    assert.deepEqual(judge(elf(62), { ...kernel, machine: 'sparc64' }), { interpreter: '' });
  });
});

test('mountinfo: escaped points, the last mount that contains the path, noexec from the per-mount options', () => {
  const text = [
    '1 0 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
    '2 1 0:5 / /mnt/a\\040b rw,noexec - tmpfs tmpfs rw',
    '3 1 0:6 / /mnt/a\\040b/deeper rw - tmpfs tmpfs rw',
    '4 1 0:7 / /srv rw,noexec - tmpfs tmpfs rw',
    '5 1 0:8 / /srv/x rw - tmpfs tmpfs rw',
    '6 1 0:9 / /srv rw - tmpfs tmpfs rw',
  ].join('\n');
  const mounts = parseMountinfo(text);
  assert.equal(mounts[1]?.point, '/mnt/a b');
  assert.equal(noexecMount('/mnt/a b/prog', mounts), '/mnt/a b');
  assert.equal(noexecMount('/mnt/a b/deeper/prog', mounts), undefined);
  assert.equal(noexecMount('/mnt/a bc', mounts), undefined);
  // /srv was mounted over again after /srv/x: the later mount hides both earlier ones.
  assert.equal(mountOf('/srv/x/prog', mounts)?.point, '/srv');
  assert.equal(noexecMount('/srv/x/prog', mounts), undefined);
  assert.equal(noexecMount('/anything', undefined), undefined);
});

describe('argument limits: as fs/exec.c counts them', () => {
  const limits = { pageSize: 4096, stack: 8 * 1024 * 1024, pointer: 8 };
  test('the stack limit and the page size are read from /proc', () => {
    assert.equal(parseStackLimit('Limit   Soft Limit Hard Limit Units\nMax stack size            8388608              unlimited            bytes\n'), 8388608);
    assert.equal(parseStackLimit('Max stack size            unlimited            unlimited            bytes\n'), Infinity);
    const auxv = Buffer.alloc(48);
    auxv.writeBigUInt64LE(33n, 0);
    auxv.writeBigUInt64LE(6n, 16);
    auxv.writeBigUInt64LE(65536n, 24);
    assert.equal(parsePageSize(auxv, 8, true), 65536);
    assert.equal(parsePageSize(undefined), 4096);
  });
  test('one string: up to 131072 bytes with its NUL; a NUL inside is refused', () => {
    const fits = { text: 'x'.repeat(131071), what: 'the variable A' };
    assert.deepEqual(argProblems([fits], { argc: 1, envc: 1 }, 131072, limits), []);
    assert.deepEqual(argProblems([{ text: 'x'.repeat(131072), what: 'the variable A' }], { argc: 1, envc: 1 }, 131073, limits),
      ['the variable A takes 131,073 bytes, more than the 131,072 bytes the kernel allows one argument or variable (MAX_ARG_STRLEN)']);
    assert.deepEqual(argProblems([{ text: 'a\0b', what: 'argument 1 of the command' }], { argc: 2, envc: 0 }, 4, limits),
      ['argument 1 of the command holds a NUL byte, which execve cannot pass']);
  });
  test('all of them: a quarter of the stack (here 2 MiB) less a pointer each, naming the largest', () => {
    const strings = Array.from({ length: 21 }, (_, i) => ({ text: 'x'.repeat(100_000 + i), what: `the variable V${i}` }));
    const total = strings.reduce((sum, s) => sum + s.text.length + 1, 0);
    const [problem] = argProblems(strings, { argc: 1, envc: 21 }, total, limits);
    assert.match(problem ?? '', /beyond the 2,097,152 bytes execve allows with a stack limit of 8192 KiB \(ulimit -s\): the largest are the variable V20 \(100,021 bytes\)$/);
    assert.deepEqual(argProblems(strings.slice(1), { argc: 1, envc: 20 }, total - 100_001, limits), []);
    // Never below 128 KiB, even with a tiny stack; at most 6 MiB with an unlimited one.
    assert.equal(argProblems(strings.slice(0, 1), { argc: 1, envc: 1 }, 100_001, { ...limits, stack: 64 * 1024 }).length, 0);
    assert.equal(argProblems(strings, { argc: 1, envc: 21 }, total, { ...limits, stack: Infinity }).length, 0);
  });
});

describe('RLIMIT_NPROC: a user switch counts every thread of this process', () => {
  const limits = (soft: string): string => `Limit                     Soft Limit           Hard Limit           Units\nMax processes             ${soft}                96364                processes\n`;
  const files = (over: Record<string, string>) => (name: string): string | undefined => over[name];
  const user = { uid: 1000, gid: 1000, groups: [1000], home: '/', label: 'u' };
  test('the soft limit, the threads and the kernel\'s flag, from /proc', () => {
    assert.equal(parseProcessLimit(limits('20')), 20);
    assert.equal(parseProcessLimit(limits('unlimited')), Infinity);
    assert.equal(parseProcessLimit(undefined), Infinity);
    assert.equal(parseThreads('Name:\tnode\nThreads:\t11\n'), 11);
    // The flags are field 9; a name may hold ") " itself.
    assert.equal(nprocExceeded('42 (a) b) S 1 42 42 0 -1 4198656 0 0'), true);
    assert.equal(nprocExceeded('42 (node) S 1 42 42 0 -1 4194560 0 0'), false);
    assert.equal(nprocExceeded(undefined), false);
  });
  test('before the switch: refused only when this process\'s other threads alone exceed the limit', () => {
    const status = 'Threads:\t7\n';
    assert.match(nprocProblem(user, 0, files({ limits: limits('5'), status })) ?? '', /^uid 1000 may have at most 5 processes \(RLIMIT_NPROC, ulimit -u\), and from the switch on this process's own 7 threads count/);
    // The calling thread switches last: six others, a limit of 6, and the switch is not flagged.
    assert.equal(nprocProblem(user, 0, files({ limits: limits('6'), status })), undefined);
    assert.equal(nprocProblem(user, 0, files({ limits: limits('unlimited'), status })), undefined);
    assert.equal(nprocProblem({ ...user, uid: 0 }, 5, files({ limits: limits('1'), status })), undefined);
    assert.equal(nprocProblem(user, 1000, files({ limits: limits('1'), status })), undefined);
  });
  test('after it: the kernel\'s flag decides', () => {
    assert.match(nprocExceededProblem(1000, files({ stat: '42 (node) S 1 42 42 0 -1 4198656 0', limits: limits('25'), status: 'Threads:\t11\n' })) ?? '',
      /^uid 1000 is over its limit of 25 processes \(RLIMIT_NPROC, ulimit -u\), counting this process's 11 threads/);
    assert.equal(nprocExceededProblem(1000, files({ stat: '42 (node) S 1 42 42 0 -1 4194560 0' })), undefined);
  });
});

test('bytes that are not UTF-8: found in a NUL-separated list as Node.js decodes them, and named where they would be passed on', () => {
  const list = Buffer.concat([Buffer.from('A=plain\0B='), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('\0C=\uFFFD\0'), Buffer.from([0xff])]);
  assert.deepEqual([...undecodable(list)], ['B=caf\uFFFD', '\uFFFD']);
  assert.deepEqual(undecodable(undefined), new Set());
  const strings = [
    { text: 'A=plain', what: 'the variable A' },
    { text: 'B=caf\uFFFD', what: 'the variable B' },
    { text: 'C=\uFFFD', what: 'the variable C' },
  ];
  assert.deepEqual(encodingProblems(strings, undecodable(list)), ['the variable B holds bytes that are not UTF-8, which Node.js can pass on only as U+FFFD: the program would get it changed']);
});

test('which: execvp\'s search, remembering a candidate that is there but unusable', () => {
  const judge = (file: string) => (file === '/b/cmd' ? { ok: true as const } : file === '/a/cmd' ? { ok: false as const, absent: false, reason: 'it is a directory' } : { ok: false as const, absent: true, reason: `${file} does not exist` });
  assert.deepEqual(which('cmd', '/a:/b', '/', judge), { found: true, path: '/b/cmd' });
  assert.deepEqual(which('cmd', '/a:/c', '/', judge), { found: false, missing: 'not-executable', path: '/a/cmd', reason: 'it is a directory' });
  assert.deepEqual(which('cmd', '/c', '/', judge), { found: false, missing: 'not-found' });
  assert.deepEqual(which('', '/b', '/', judge), { found: false, missing: 'not-found' });
  assert.deepEqual(which('./x/', '/b', '/w', judge), { found: false, missing: 'not-found', reason: '/w/x/ does not exist' });
});
