// The package as npm packs it: what it holds, that it installs with no registry at all, and that it runs.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { NODE, PATH, ROOT, tempDir } from '../support/cli.ts';
import { needsProgram } from '../support/require.ts';
import { otherNode } from '../support/other-node.ts';
import { shippedFiles } from '../support/shipped.ts';

const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies?: object };

/** npm with its cache, logs and config in `dir`, a registry that refuses every connection, and `node` first on PATH. */
function npm(args: readonly string[], dir: string, cwd = dir, node = NODE): { status: number | null; stdout: string; stderr: string } {
  const env = {
    PATH: `${dirname(node)}:${PATH}`, HOME: dir, npm_config_cache: join(dir, 'npm-cache'), npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false',
  };
  const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The oldest Node the package supports, and one without process.execve: from the npm package node, as the pinned one comes. */
const NODE_22 = '22.14.0';

/** The Nodes the package is run on, by version: the pinned one, and Node 22.14. */
function nodes(): Map<string, string> {
  return new Map([[process.version, NODE], [`v${NODE_22}`, join(otherNode(NODE_22), 'node')]]);
}

test('npm pack holds what runs, the LICENSE and the CHANGELOG, and declares no dependency the bundles already hold', (t) => {
  if (!needsProgram(t, 'npm')) return;
  const dir = tempDir(t);
  const pack = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], dir, ROOT);
  assert.equal(pack.status, 0, pack.stderr);
  const [info] = JSON.parse(pack.stdout) as { files: { path: string }[] }[];
  const files = (info?.files ?? []).map((f) => f.path).sort();
  assert.deepEqual(files, shippedFiles(), 'the tests run the package as it ships: the same files');
  for (const path of ['LICENSE', 'CHANGELOG.md', 'bin/hls-bootstrap', 'dist/boot.cjs', 'dist/cli.cjs', 'docker/supervisord.conf']) assert.ok(files.includes(path), path);
  assert.deepEqual(files.filter((f) => /^(src|test|node_modules)\/|\.ts$|\.map$/.test(f)), []);
  assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /^MIT License\n/);
  assert.equal(PKG.dependencies, undefined, 'what the bundles carry is not a dependency to download');
});

test('the tarball installs into an empty prefix with the registry unreachable, and runs on each Node', { timeout: 600_000 }, (t) => {
  if (!needsProgram(t, 'npm')) return;
  const dir = tempDir(t);
  const pack = npm(['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], dir, ROOT);
  assert.equal(pack.status, 0, pack.stderr);
  const tarball = join(dir, pack.stdout.trim());
  const prefix = join(dir, 'prefix');
  const install = npm(['install', '--global', '--offline', '--prefix', prefix, tarball], dir);
  assert.equal(install.status, 0, install.stderr);
  // Nothing came with it: the prefix holds the package alone, with no node_modules of its own.
  const installed = join(prefix, 'lib', 'node_modules', PKG.name);
  assert.deepEqual(readdirSync(join(prefix, 'lib', 'node_modules')), [PKG.name]);
  assert.ok(!existsSync(join(installed, 'node_modules')));

  const work = join(dir, 'work');
  writeFileSync(join(dir, 'extra.env'), 'HLS_GC_INTERVAL=45\n');
  for (const [version, node] of nodes()) {
    // The libraries loaded only on some path: dotenv (--env-file), chalk (colour), and execa, in its
    // own bundle (--supervise).
    const env = { PATH: `${dirname(node)}:${join(prefix, 'bin')}:/usr/bin:/bin`, HOME: dir, FORCE_COLOR: '1',
      HLS_TEMP_DIR: join(work, 'hls'), SUPERVISORD_TEMPLATE: join(installed, 'docker', 'supervisord.conf'), SUPERVISORD_CONF: join(dir, 'supervisord.conf') };
    const run = (args: string[]) => spawnSync('hls-bootstrap', args, { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
    const shown = run(['--version']);
    assert.equal(shown.status, 0, `${version}: ${shown.stderr}`);
    assert.equal(shown.stdout, `${PKG.version}\n`);
    const started = run(['run', '--env-file', join(dir, 'extra.env'), '--supervise', '--', 'sh', '-c', 'echo "interval $HLS_GC_INTERVAL"']);
    assert.equal(started.status, 0, `${version}: ${started.stderr}`);
    // eslint-disable-next-line no-control-regex
    assert.match(started.stdout, /Available disk space: \d+GB[\s\S]*\u001b\[32m✅ HLS storage configured[\s\S]*\ninterval 45\n$/, version);
  }
});

test('npx runs the tarball with nothing but the tarball: no cache, no registry, on each Node', { timeout: 600_000 }, (t) => {
  if (!needsProgram(t, 'npm')) return;
  const dir = tempDir(t);
  const pack = npm(['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], dir, ROOT);
  assert.equal(pack.status, 0, pack.stderr);
  for (const [version, node] of nodes()) {
    const r = npm(['exec', '--offline', '--yes', '--package', join(dir, pack.stdout.trim()), '--', 'hls-bootstrap', '--version'], dir, dir, node);
    assert.equal(r.status, 0, `${version}: ${r.stderr}`);
    assert.equal(r.stdout, `${PKG.version}\n`, version);
  }
});
