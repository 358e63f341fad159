// Unit tests of the storage step's pure parts: planning, names shown as bytes, who can reach the directory, temporary names.

import assert from 'node:assert/strict';
import { closeSync, constants, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { test } from 'node:test';
import { trustedLink } from '../../src/2-storage/chase.ts';
import { canChown } from '../../src/2-storage/handles.ts';
import { TreeLock } from '../../src/2-storage/lock.ts';
import { mountId, mountPointsInside } from '../../src/2-storage/mounts.ts';
import { isStreamName, showName, showPath, showReason } from '../../src/2-storage/names.ts';
import type { Observation } from '../../src/2-storage/observe.ts';
import { describePlan, isShared, planStorage } from '../../src/2-storage/plan.ts';
import { permits, reachProblem, type Access } from '../../src/2-storage/reach.ts';
import { temporaryName } from '../../src/4-supervisord/write.ts';

type Owned = Pick<Access, 'uid' | 'mode'>;

const owner = { uid: 1000, gid: 1001, label: 'm3ue:m3ue' };
const target = { variable: 'HLS_TEMP_DIR', path: '/data/hls', noun: 'HLS storage', step: 'the storage step' };
const existing = (uid: number, gid: number, mode: number, hasGitignore = true): Observation =>
  ({ target, path: '/data/hls', real: '/data/hls', missing: [], current: { uid, gid, mode }, hasGitignore });

test('a missing directory: create it and its parents, own it, set its mode, write .gitignore, nothing to walk', () => {
  const plan = planStorage({ target, path: '/data/hls', real: '/data/hls', missing: ['/data', '/data/hls'], current: undefined, hasGitignore: false }, owner, 0o755);
  assert.deepEqual([plan.create, plan.chown, plan.chmod, plan.writeGitignore, plan.walk, plan.shared], [['/data', '/data/hls'], true, true, true, 'none', false]);
  assert.deepEqual(describePlan(plan), [
    'would create /data, /data/hls',
    'would give /data/hls to m3ue:m3ue (1000:1001)',
    'would set the mode of /data/hls to 0755',
    'would write /data/hls/.gitignore',
  ]);
});

test('an existing directory already right: only the walk', () => {
  const plan = planStorage(existing(1000, 1001, 0o755), owner, 0o755);
  assert.deepEqual([plan.chown, plan.chmod, plan.writeGitignore, plan.walk], [false, false, false, 'tree']);
  assert.deepEqual(describePlan(plan), ['/data/hls already belongs to m3ue:m3ue with mode 0755']);
});

test('wrong group alone, or wrong mode alone, is planned on its own', () => {
  assert.equal(planStorage(existing(1000, 0, 0o755), owner, 0o755).chown, true);
  const mode = planStorage(existing(1000, 1001, 0o700, false), owner, 0o755);
  assert.deepEqual([mode.chown, mode.chmod, mode.writeGitignore], [false, true, true]);
  assert.deepEqual(describePlan(mode), ['would set the mode of /data/hls to 0755 (now 0700)', 'would write /data/hls/.gitignore']);
});

test('a shared sticky directory keeps owner and mode; only stream directories are walked', () => {
  assert.equal(isShared(0o1777), true);
  assert.equal(isShared(0o1775), false);
  assert.equal(isShared(0o777), false);
  const plan = planStorage(existing(0, 0, 0o1777, false), owner, 0o755);
  assert.deepEqual([plan.shared, plan.chown, plan.chmod, plan.writeGitignore, plan.walk], [true, false, false, false, 'stream-dirs']);
  assert.match(describePlan(plan)[0] ?? '', /is a shared sticky directory \(mode 1777\): it would keep its owner and mode/);
});

test('a directory reached through links says where it really is', () => {
  const plan = planStorage({ ...existing(0, 0, 0o755), real: '/mnt/big/hls' }, owner, 0o755);
  assert.match(describePlan(plan)[0] ?? '', /^would give \/data\/hls \(really \/mnt\/big\/hls\) to m3ue:m3ue/);
});

test('names are shown byte for byte: valid UTF-8 as itself, every other byte, control character and backslash escaped', () => {
  const cases: [number[] | string, string][] = [
    ['segment_1.ts', 'segment_1.ts'],
    ['Stream é 中 🎬', 'Stream é 中 🎬'],
    [[0x61, 0xff, 0x62], 'a\\xffb'],
    [[0xc3], '\\xc3'],
    [[0xc3, 0xa9, 0xc3], 'é\\xc3'],
    [[0xed, 0xa0, 0x80], '\\xed\\xa0\\x80'],
    [[0xc0, 0xaf], '\\xc0\\xaf'],
    ['a\nb\tc\rd', 'a\\nb\\tc\\rd'],
    ['back\\slash', 'back\\\\slash'],
    [[0x01, 0x7f, 0xc2, 0x85], '\\x01\\x7f\\xc2\\x85'],
  ];
  for (const [bytes, shown] of cases) assert.equal(showName(Buffer.from(bytes as never)), shown, JSON.stringify(bytes));
  assert.equal(showPath([Buffer.from('m3u_proxy_hls_a'), Buffer.from([0xfe])]), 'm3u_proxy_hls_a/\\xfe');
});

test('a stream directory is named m3u_proxy_hls_ byte for byte, whatever follows', () => {
  assert.equal(isStreamName(Buffer.from('m3u_proxy_hls_1')), true);
  assert.equal(isStreamName(Buffer.concat([Buffer.from('m3u_proxy_hls_'), Buffer.from([0xff])])), true);
  assert.equal(isStreamName(Buffer.from('m3u_proxy_hls')), false);
  assert.equal(isStreamName(Buffer.from('M3U_PROXY_HLS_1')), false);
});

test('who may pass and write: owner, group (primary or supplementary) or other bits, and root always', () => {
  const user = { uid: 1000, gids: [1000, 27], label: 'WWWUSER m3ue (uid 1000)' };
  const cases: [number, number, number, number, boolean][] = [
    // uid, gid, mode, bits wanted, allowed
    [1000, 0, 0o700, 3, true],
    [1000, 1000, 0o070, 1, false],
    [0, 1000, 0o750, 1, true],
    [0, 27, 0o710, 1, true],
    [0, 0, 0o751, 1, true],
    [0, 0, 0o750, 1, false],
    [0, 0, 0o755, 3, false],
    [0, 0, 0o1777, 3, true],
  ];
  for (const [uid, gid, mode, bits, allowed] of cases) assert.equal(permits({ uid, gid, mode }, user, bits), allowed, `${uid}:${gid} ${mode.toString(8)} ${bits}`);
  assert.equal(permits({ uid: 5, gid: 5, mode: 0o700 }, { uid: 0, gids: [0], label: 'root' }, 3), true);
});

test('reaching a directory: the first ancestor without search permission, or the directory without write permission', () => {
  const user = { uid: 1000, gids: [1000], label: 'WWWUSER m3ue (uid 1000)' };
  const modes: Record<string, [number, number, number]> = {
    '/': [0, 0, 0o755], '/data': [0, 0, 0o700], '/data/hls': [1000, 1000, 0o755],
  };
  const stat = (path: string): Access => {
    const [uid, gid, mode] = modes[path] ?? [0, 0, 0o755];
    return { uid, gid, mode: 0o040000 | mode };
  };
  assert.equal(reachProblem('/data/hls', user, stat), 'WWWUSER m3ue (uid 1000) cannot reach it: /data is mode 0700, owner 0:0, without search permission for it');
  modes['/data'] = [0, 0, 0o711];
  assert.equal(reachProblem('/data/hls', user, stat), undefined);
  modes['/data/hls'] = [0, 0, 0o755];
  assert.equal(reachProblem('/data/hls', user, stat), 'WWWUSER m3ue (uid 1000) cannot write to it: it is mode 0755, owner 0:0');
});

test('the temporary name of an atomic write fits in 255 bytes, and never splits a character', () => {
  const long = `/etc/supervisor/${'c'.repeat(240)}`;
  const name = basename(temporaryName(long, 4194304, Date.UTC(2030, 0, 1)));
  assert.ok(Buffer.byteLength(name) <= 255, `${Buffer.byteLength(name)} bytes`);
  assert.match(name, /^\.c+\.4194304\.[0-9a-z]+\.tmp$/);
  // A 9-byte suffix leaves 245 bytes, which would end inside the 123rd é.
  const wide = basename(temporaryName(`/x/${'é'.repeat(127)}`, 10, 0));
  assert.equal(wide, `.${'é'.repeat(122)}.10.0.tmp`);
  assert.ok(Buffer.byteLength(wide) <= 255);
  assert.doesNotMatch(Buffer.from(wide).toString('latin1'), /\xc3\./, 'no half character before the suffix');
  assert.equal(temporaryName('/etc/supervisor/supervisord.conf', 7, 35), '/etc/supervisor/.supervisord.conf.7.z.tmp');
});

test('one refused entry or a refusal of all: CAP_CHOWN is read from the effective capabilities', () => {
  const status = (caps: string) => () => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${caps}\nCapBnd:\t000001ffffffffff\n`;
  assert.equal(canChown(status('000001ffffffffff')), true, 'root');
  assert.equal(canChown(status('00000000a80425fb')), true, 'Docker\'s default set');
  assert.equal(canChown(status('00000000a80425fa')), false, '--cap-drop CHOWN');
  assert.equal(canChown(status('0000000000000000')), false, 'a plain user');
  assert.equal(canChown(() => 'Name:\tnode\n'), false, 'no capability line');
});

test('mount points inside a directory, from mountinfo: strictly inside, with its octal escapes undone', () => {
  const mountinfo = [
    '22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
    '40 22 0:35 / /data/hls rw - tmpfs tmpfs rw',
    '41 40 8:1 /srv/rec /data/hls/m3u_proxy_hls_1/rec rw - ext4 /dev/sda1 rw',
    '42 22 8:1 /srv/x /data/hls\\040two/x rw - ext4 /dev/sda1 rw',
    '43 40 8:1 /srv/f /data/hls/a\\040b\\012c rw - ext4 /dev/sda1 rw',
    '44 22 8:1 /srv/y /data/hlsx rw - ext4 /dev/sda1 rw',
  ].join('\n');
  assert.deepEqual(mountPointsInside('/data/hls', mountinfo), ['/data/hls/m3u_proxy_hls_1/rec', '/data/hls/a b\nc']);
  assert.deepEqual(mountPointsInside('/', mountinfo).length, 5);
});

test('the mount id of a handle is read from its fdinfo; none where the kernel gives none', () => {
  assert.equal(mountId(7, () => 'pos:\t0\nflags:\t02100000\nmnt_id:\t129\nino:\t42\n'), 129);
  assert.equal(mountId(7, () => 'pos:\t0\nflags:\t02100000\n'), undefined);
  assert.equal(mountId(7, () => { throw new Error('ENOENT'); }), undefined);
});

test('a link on the way is followed only where no one but root (or this process\'s user) could have made it', () => {
  const dir = (uid: number, mode: number): Owned => ({ uid, mode: 0o040000 | mode });
  const link = (uid: number): Owned => ({ uid, mode: 0o120777 });
  const cases: [string, Owned, Owned, number, boolean][] = [
    ['root\'s 0755', dir(0, 0o755), link(0), 0, true],
    ['root\'s 0755, a link chowned to another user', dir(0, 0o755), link(999), 0, true],
    ['another user\'s 0755', dir(999, 0o755), link(999), 0, false],
    ['root\'s, group-writable', dir(0, 0o775), link(0), 0, false],
    ['root\'s, world-writable', dir(0, 0o777), link(0), 0, false],
    ['root\'s sticky 1777, root\'s link', dir(0, 0o1777), link(0), 0, true],
    ['root\'s sticky 1777, another user\'s link', dir(0, 0o1777), link(999), 0, false],
    ['the process\'s own 0755, not root', dir(1000, 0o755), link(1000), 1000, true],
    ['a third user\'s 0755, not root', dir(999, 0o755), link(999), 1000, false],
  ];
  for (const [name, d, l, euid, expected] of cases) assert.equal(trustedLink(d, l, euid), expected, name);
});

test('why a system call failed is shown without the path it names, also for an errno Node has no name for, and never with a control character', () => {
  const system = (message: string, errno: number, code: string): Error => Object.assign(new Error(message), { errno, code, syscall: 'open' });
  assert.equal(showReason(system('EIO: i/o error, open \'x\n   ✅ forged\'', -5, 'EIO')), 'i/o error (EIO)');
  assert.equal(showReason(system('Unknown system error -116: Unknown system error -116, open \'x\n   ✅ forged\'', -116, 'Unknown system error -116')), 'system error ESTALE');
  assert.equal(showReason(system('Unknown system error -9999: Unknown system error -9999, open \'x\'', -9999, 'Unknown system error -9999')), 'system error 9999');
  assert.equal(showReason(new Error('a\nb\u009b')), 'a\\x0ab\\xc2\\x9b');
});

test('the lock on the tree: flock(1) says 0, held; 1, another holds it; anything else or nothing, no one can; asked once, kept only while held', () => {
  const home = openSync(tmpdir(), constants.O_DIRECTORY | 0o10000000);
  try {
    for (const [status, state] of [[0, 'held'], [1, 'busy'], [64, 'none'], [undefined, 'none']] as const) {
      let runs = 0;
      const lock = new TreeLock(home, () => {
        runs++;
        return status;
      });
      assert.equal(lock.get(), state);
      assert.equal(lock.get(), state);
      assert.equal(runs, 1);
      assert.equal(lock.descriptor() !== undefined, state === 'held');
      lock.release();
      assert.equal(lock.descriptor(), undefined);
    }
  } finally {
    closeSync(home);
  }
});
