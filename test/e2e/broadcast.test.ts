// Broadcast storage end to end, as root: HLS_BROADCAST_DIR on a small real tmpfs, prepared with the storage step's safety.

import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, readFileSync, statfsSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { cli, renderTo, tempDir, type CliResult } from '../support/cli.ts';
import { needsRoot } from '../support/require.ts';
import { reachableDir } from '../support/storage.ts';
import { ensureUser, mountTmpfs, ownerOf, snapshot } from '../support/system.ts';

/** `prepare` with broadcasts on, owned by m3ue, HLS_TEMP_DIR in a directory m3ue can pass through. */
function prepare(t: TestContext, broadcast: string, env: Record<string, string> = {}, args: string[] = []): CliResult {
  const cwd = reachableDir(t);
  return cli(['prepare', ...args], { cwd, env: {
    ...renderTo(cwd), HLS_TEMP_DIR: join(cwd, 'hls'), NETWORK_BROADCAST_ENABLED: 'true', HLS_BROADCAST_DIR: broadcast,
    WWWUSER: 'm3ue', WWWGROUP: 'm3ue', ...env,
  } });
}

/** A 64 MiB tmpfs, below the 256 MiB warning: the RAM disk upstream means HLS_BROADCAST_DIR for. */
function ramDisk(t: TestContext): string {
  return mountTmpfs(t, join(reachableDir(t), 'ram'), '64m', ['mode=0755']);
}

/** Whole MB available where `path` is, in the old script's integer arithmetic. */
function availableMb(path: string): number {
  const st = statfsSync(path);
  return Math.floor(Math.floor((st.bavail * st.bsize) / 1024) / 1024);
}

describe('broadcast storage', () => {
  test('on a small tmpfs: created, given to WWWUSER:WWWGROUP, measured and warned about, in upstream\'s lines', (t) => {
    if (!needsRoot(t)) return;
    const m3ue = ensureUser('m3ue');
    const broadcast = join(ramDisk(t), 'broadcast');
    const r = prepare(t, broadcast);
    assert.equal(r.code, 0, r.stderr);
    const mb = availableMb(broadcast);
    assert.ok(mb < 64 && mb > 60, String(mb));
    assert.match(r.stdout, new RegExp('\\n✅ HLS storage configured\\n'
      + '📡 Configuring broadcast segment storage\\.\\.\\.\\n'
      + ` {3}HLS_BROADCAST_DIR: ${broadcast}\\n`
      + ' {3}Creating broadcast storage directory\\.\\.\\.\\n'
      + ` {3}✅ Created: ${broadcast}\\n`
      + ` {3}Owner m3ue:m3ue \\(${m3ue.uid}:${m3ue.gid}\\), mode 0755: owner set, mode set\\n`
      + ` {3}Available space: 0GB \\(${mb}MB\\)\\n`
      + '✅ Broadcast storage configured\\n'));
    assert.ok(r.stderr.includes('   ⚠️  WARNING: Low space for broadcast segments!\n'
      + `      Available: ${mb}MB\n`
      + '      Recommended: At least 256MB for network broadcasts (HLS_BROADCAST_DISK_WARN_MB)\n'
      + '      Consider setting HLS_BROADCAST_DIR to a larger tmpfs or disk path.\n'), r.stderr);
    assert.equal(ownerOf(broadcast), `${m3ue.uid}:${m3ue.gid}`);
    assert.equal(statSync(broadcast).mode & 0o7777, 0o755);
    assert.match(renderedConfig(r), new RegExp(`HLS_BROADCAST_DIR="${broadcast}"`));

    const before = snapshot(broadcast);
    const again = prepare(t, broadcast, { HLS_BROADCAST_DISK_WARN_MB: '32' });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(` {3}✅ Directory exists: ${broadcast}\\n {3}Owner m3ue:m3ue \\(\\d+:\\d+\\), mode 0755: already right\\n`));
    assert.doesNotMatch(again.stderr, /broadcast/, 'above HLS_BROADCAST_DISK_WARN_MB, no warning');
    assert.deepEqual(snapshot(broadcast), before, 'nothing changed the second time');
  });

  test('no link is followed: a planted one is left alone, one into a system directory refuses the start before anything is touched', (t) => {
    if (!needsRoot(t)) return;
    const m3ue = ensureUser('m3ue');
    const ram = ramDisk(t);
    const broadcast = join(ram, 'broadcast');
    mkdirSync(join(broadcast, 'network_1'), { recursive: true });
    writeFileSync(join(ram, 'outside'), 'not the proxy\'s');
    symlinkSync(join(ram, 'outside'), join(broadcast, 'network_1', 'escape'));
    const r = prepare(t, broadcast);
    assert.equal(r.code, 0, r.stderr);
    // network_1, the link in it, and the .gitignore it wrote (already owned by m3ue).
    assert.match(r.stdout, /Checked 3 entries inside in [\d.]+ s.*: re-owned 1; left alone: 1 symbolic link\n/);
    assert.equal(ownerOf(join(broadcast, 'network_1')), `${m3ue.uid}:${m3ue.gid}`);
    assert.equal(ownerOf(join(ram, 'outside')), '0:0', 'the file the link leads to keeps its owner');
    assert.equal(ownerOf(join(broadcast, 'network_1', 'escape')), '0:0');

    const etc = join(ram, 'etc-link');
    symlinkSync('/etc', etc);
    const cwd = tempDir(t);
    const refused = cli(['prepare'], { cwd, env: { ...renderTo(cwd), HLS_TEMP_DIR: join(cwd, 'hls'), NETWORK_BROADCAST_ENABLED: 'true', HLS_BROADCAST_DIR: join(etc, 'x') } });
    assert.equal(refused.code, 78);
    assert.match(refused.stderr, /^hls-bootstrap: HLS_BROADCAST_DIR=".*\/etc-link\/x" is not valid: through symbolic links it is \/etc\/x, and it lies directly in the system directory \/etc\n$/);
    assert.equal(refused.stdout, '');
    assert.ok(!existsSync(join(cwd, 'hls')) && !existsSync('/etc/x'), 'nothing was created');
  });

  test('a file where the directory should be: 73 naming HLS_BROADCAST_DIR, before any step', (t) => {
    if (!needsRoot(t)) return;
    ensureUser('m3ue');
    const ram = ramDisk(t);
    writeFileSync(join(ram, 'file'), '');
    const r = prepare(t, join(ram, 'file', 'broadcast'));
    assert.equal(r.code, 73);
    assert.match(r.stderr, /^hls-bootstrap: cannot prepare HLS_BROADCAST_DIR .*\/file\/broadcast: .*\/file exists and is not a directory\n$/);
    assert.equal(r.stdout, '');
  });

  test('--dry-run says what it would do and does nothing', (t) => {
    if (!needsRoot(t)) return;
    ensureUser('m3ue');
    const ram = ramDisk(t);
    const existing = join(ram, 'broadcast');
    mkdirSync(existing);
    chownSync(existing, 0, 0);
    const r = prepare(t, existing, {}, ['--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[dry run\] would give .*\/broadcast to m3ue:m3ue/);
    assert.equal(ownerOf(existing), '0:0');
  });

  test('the same directory as HLS_TEMP_DIR (the default) is prepared once; NETWORK_BROADCAST_ENABLED=false (the default): no block', (t) => {
    if (!needsRoot(t)) return;
    ensureUser('m3ue');
    const cwd = reachableDir(t);
    const hls = join(cwd, 'hls');
    const base = { ...renderTo(cwd), HLS_TEMP_DIR: hls, WWWUSER: 'm3ue' };
    const same = cli(['prepare'], { cwd, env: { ...base, NETWORK_BROADCAST_ENABLED: 'true' } });
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, new RegExp(`✅ HLS storage configured\\n📡 Configuring broadcast segment storage\\.\\.\\.\\n {3}HLS_BROADCAST_DIR: ${hls}\\n`
      + ' {3}The same directory as HLS_TEMP_DIR: prepared and measured above\\n✅ Broadcast storage configured\\n'));
    assert.equal((same.stdout.match(/Directory exists|Created:/g) ?? []).length, 1);
    const off = cli(['prepare'], { cwd, env: base });
    assert.equal(off.code, 0, off.stderr);
    assert.match(off.stdout, / {3}BROADCAST_GC_ENABLED: true\n/);
    assert.doesNotMatch(off.stdout, /📡/);
  });
});

/** The config `prepare` rendered, read from the path its log names. */
function renderedConfig(r: CliResult): string {
  const path = /supervisord config written: (\S+)/.exec(r.stdout)?.[1];
  assert.ok(path !== undefined, r.stdout);
  return readFileSync(path, 'utf8');
}
