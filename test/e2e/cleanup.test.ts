// What a test makes outside the checkout goes when it ends, also when it fails: a test that fails on purpose, run in a child.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { PATH, ROOT, tempDir } from '../support/cli.ts';
import { needsRoot } from '../support/require.ts';

const support = (name: string): string => pathToFileURL(join(ROOT, 'test', 'support', name)).href;

test('a failing test leaves no mount, no temporary directory and no copy of the package behind', (t) => {
  if (!needsRoot(t)) return;
  const dir = tempDir(t);
  const report = join(dir, 'made.json');
  writeFileSync(join(dir, 'fails.test.ts'), `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SHIPPED, tempDir } from ${JSON.stringify(support('cli.ts'))};
import { mountTmpfs } from ${JSON.stringify(support('system.ts'))};
test('fails on purpose', (t) => {
  const temp = tempDir(t);
  const mount = mountTmpfs(t, join(temp, 'mnt'), '1m');
  writeFileSync(${JSON.stringify(report)}, JSON.stringify({ temp, mount, shipped: SHIPPED.dir }));
  throw new Error('failing on purpose');
});
`);
  const r = spawnSync(process.execPath, ['--test', join(dir, 'fails.test.ts')], { cwd: dir, env: { PATH, HOME: dir }, encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(r.status, 0, 'the child test failed');
  assert.match(r.stdout, /failing on purpose/);
  const made = JSON.parse(readFileSync(report, 'utf8')) as { temp: string; mount: string; shipped: string };
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' ')[4]);
  assert.ok(!mounts.includes(made.mount), `${made.mount} is still mounted`);
  for (const path of [made.temp, made.shipped]) assert.ok(!existsSync(path), `${path} is still there`);
});
