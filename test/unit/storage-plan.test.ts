// Unit tests of storage planning: what would be created, re-owned and re-moded, from plain observations.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Observation } from '../../src/2-storage/observe.ts';
import { describePlan, isShared, planStorage } from '../../src/2-storage/plan.ts';

const owner = { uid: 1000, gid: 1001, label: 'm3ue:m3ue' };
const existing = (uid: number, gid: number, mode: number, hasGitignore = true): Observation =>
  ({ path: '/data/hls', real: '/data/hls', missing: [], current: { uid, gid, mode }, hasGitignore });

test('a missing directory: create it and its parents, own it, set its mode, write .gitignore, nothing to walk', () => {
  const plan = planStorage({ path: '/data/hls', real: '/data/hls', missing: ['/data', '/data/hls'], current: undefined, hasGitignore: false }, owner, 0o755);
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
