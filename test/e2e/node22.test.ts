// hls-bootstrap on a Node 22 without process.execve (22.14, from the npm package node@22.14): `run` supervises, with one warning.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';
import { PATH, cli, renderTo, startCli, tempDir } from '../support/cli.ts';
import { otherNode } from '../support/other-node.ts';

const VERSION = '22.14.0';

test(`Node ${VERSION} runs \`run -- true\` through the --supervise fallback, with exactly one warning line`, { timeout: 600_000 }, async (t) => {
  const bin = otherNode(VERSION);
  assert.equal(spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout, `v${VERSION}\n`);

  const dir = tempDir(t);
  const env = { PATH: `${bin}:${PATH}`, HLS_TEMP_DIR: join(dir, 'hls'), ...renderTo(dir) };
  const warning = (command: string): string => `hls-bootstrap: warning: Node.js v${VERSION} has no process.execve (22.15 and 23.11 have it), so ${command} runs as a child, as with --supervise\n`;
  const r = cli(['-q', 'run', '--', 'true'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, warning('true'));
  assert.equal(r.stdout, '');

  // A child indeed: its parent is the process hls-bootstrap was started as, and its status is passed on.
  const child = startCli(['-q', 'run', '--', 'sh', '-c', 'echo $PPID; exit 3'], { cwd: dir, env });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 3);
  assert.equal(stdout, `${child.pid}\n`);
});
