// docker/Dockerfile built by a real engine and its containers run: PID 1, stop, HEALTHCHECK, volumes, --init,
// --read-only, --user, and a stop while a large volume is being re-owned.

import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Container, runContainer, runOnce, volume, volumePath } from '../support/containers.ts';
import { waitFor } from '../support/processes.ts';
import { VARIABLES } from '../../src/1-config/variables.ts';
import { dockerEnv, execForm } from '../support/docker.ts';
import { IMAGE, PROXY_IMAGE } from '../support/images.ts';
import { engineSuite, needsEngine } from '../support/suite.ts';

const HLS = dockerEnv().HLS_TEMP_DIR ?? '';
const CONF = dockerEnv().SUPERVISORD_CONF ?? '';
/** Docker's grace between SIGTERM and SIGKILL in `docker stop`; the tests want an end well inside it. */
const GRACE = 10;
/** Only the HEALTHCHECK's timing is changed, to see a verdict in seconds; its command and retries are the image's. */
const FAST_HEALTH = ['--health-interval=1s', '--health-start-period=1s'];

/** The `--mount` of a named volume on the segment directory. */
const onVolume = (name: string): string[] => ['--mount', `type=volume,source=${name},destination=${HLS}`];

/** PID 1's command line, and the processes whose parent it is. */
async function pid1(c: Container): Promise<{ cmdline: string; uid: number; children: string[] }> {
  const all = await c.processes();
  const first = all.find((p) => p.pid === 1);
  assert.ok(first, JSON.stringify(all));
  return { cmdline: first.cmdline, uid: first.uid, children: all.filter((p) => p.ppid === 1).map((p) => p.cmdline) };
}

async function assertStopsCleanly(c: Container): Promise<void> {
  const stopped = await c.stop(GRACE);
  assert.equal(stopped.exitCode, 0, await c.logs());
  assert.ok(stopped.seconds < GRACE / 2, `docker stop took ${stopped.seconds.toFixed(1)} s of its ${GRACE} s grace`);
}

describe('the image, built and run by a real engine', needsEngine(), () => {
  const suite = engineSuite();
  let m3ue = '';
  // m3ue's uid, as the image's user database has it.
  before(async () => {
    m3ue = (await runOnce(suite.engine, ['--entrypoint', 'id'], IMAGE, ['-u', 'm3ue'])).stdout.trim();
    assert.match(m3ue, /^\d+$/);
  });

  test('the build context holds only what the Dockerfile copies, and the image only what runs', async () => {
    const { engine, images } = suite;
    assert.ok(images.image.contextBytes > 10_000 && images.image.contextBytes < 1_000_000, `build context: ${images.image.contextBytes} bytes`);
    const shipped = await runOnce(engine, ['--entrypoint', 'find'], IMAGE, ['/opt/hls-bootstrap', '-maxdepth', '1', '-mindepth', '1']);
    assert.deepEqual(shipped.stdout.split('\n').filter(Boolean).sort(),
      ['/opt/hls-bootstrap/.cache', '/opt/hls-bootstrap/bin', '/opt/hls-bootstrap/dist', '/opt/hls-bootstrap/package.json']);
  });

  test('supervisord is PID 1 after the start and runs the proxy; docker stop ends it with exit 0 well inside the grace', async (t) => {
    const { engine } = suite;
    const c = await runContainer(t, engine, onVolume(await volume(t, engine)), PROXY_IMAGE);
    const proxy = await c.proxyReady();
    const first = await pid1(c);
    assert.equal(first.cmdline, `/usr/bin/python3 /usr/bin/supervisord -c ${CONF}`);
    assert.equal(proxy.ppid, 1, 'supervisord, as PID 1, started the proxy');
    assert.equal(proxy.env.HLS_TEMP_DIR, HLS);
    assert.match(await c.logs(), new RegExp(`▶ exec supervisord -c ${CONF}\\n`));
    await c.writeSegments();
    await assertStopsCleanly(c);
  });

  test('a root start keeps the volume as the image made it, m3ue and group 0, so a --user start with an unknown uid can write it', async (t) => {
    const { engine } = suite;
    const hls = await volume(t, engine);
    const root = await runContainer(t, engine, onVolume(hls), PROXY_IMAGE);
    await root.proxyReady();
    const byRoot = await root.writeSegments();
    assert.equal(await root.stat(HLS), `${m3ue}:0 2775`, 'the image\'s owner, group and mode, not WWWUSER\'s primary group');
    assert.match(await root.logs(), /Owner m3ue:root \(\d+:0\), mode 2775: already right/);
    assert.equal(byRoot.gid, 0, 'what the proxy writes stays group 0\'s');
    await assertStopsCleanly(root);

    const other = await runContainer(t, engine, [...onVolume(hls), '--user', '12345'], PROXY_IMAGE);
    const proxy = await other.proxyReady();
    assert.deepEqual([proxy.uid, proxy.gid], [12345, 0], 'supervisord, started as 12345, runs the proxy as itself');
    assert.equal((await pid1(other)).uid, 12345);
    const byOther = await other.writeSegments();
    assert.deepEqual([byOther.uid, byOther.gid], [12345, 0]);
    assert.equal(await other.stat(HLS), `${m3ue}:0 2775`);
    await assertStopsCleanly(other);

    // A root start gives back to m3ue:0 what others wrote: the stream directory and segment of 12345
    // (and of root, had the root start's proxy run as root), nothing else.
    const again = await runContainer(t, engine, onVolume(hls), PROXY_IMAGE);
    await again.proxyReady();
    const foreign = [byRoot, byOther].filter((s) => s.uid !== Number(m3ue) || s.gid !== 0).length;
    assert.match(await again.logs(), new RegExp(`Checked 5 entries inside in [\\d.]+ s: re-owned ${2 * foreign}\\n`));
    assert.equal(await again.stat(byOther.dir), `${m3ue}:0 2755`);
    await assertStopsCleanly(again);
  });

  test('the volume\'s contents survive docker rm and a new container', async (t) => {
    const { engine } = suite;
    const hls = await volume(t, engine);
    const first = await runContainer(t, engine, onVolume(hls), PROXY_IMAGE);
    await first.proxyReady();
    const written = await first.writeSegments();
    await assertStopsCleanly(first);
    await engine.dockerOk(['rm', first.name]);

    const second = await runContainer(t, engine, onVolume(hls), PROXY_IMAGE);
    await second.proxyReady();
    assert.equal(await second.stat(join(written.dir, 'segment_0.ts')), `${m3ue}:0 0644`);
    const logs = await second.logs();
    assert.match(logs, new RegExp(`✅ Directory exists: ${HLS}\\n`));
    const foreign = written.uid !== Number(m3ue) || written.gid !== 0;
    assert.match(logs, new RegExp(`Checked 3 entries inside in [\\d.]+ s: re-owned ${foreign ? 2 : 0}\\n`));
    await assertStopsCleanly(second);
  });

  test('HEALTHCHECK: healthy on the volume, still healthy with a warning just above the critical threshold, unhealthy below it', async (t) => {
    const { engine } = suite;
    const tmpfs = (size: string): string[] => ['--mount', `type=tmpfs,destination=${HLS},tmpfs-size=${size}`];
    const critical = Number(VARIABLES.find((v) => v.name === 'HLS_DISK_CRITICAL_MB')?.default);
    const [roomy, warned, full] = await Promise.all([
      runContainer(t, engine, [...FAST_HEALTH, ...onVolume(await volume(t, engine))], IMAGE),
      runContainer(t, engine, [...FAST_HEALTH, ...tmpfs(`${critical + 100}m`)], IMAGE),
      runContainer(t, engine, [...FAST_HEALTH, ...tmpfs('100m')], IMAGE),
    ]);
    assert.deepEqual(await engine.dockerOk(['inspect', '--format', '{{json .Config.Healthcheck.Test}}', full.name]),
      JSON.stringify(['CMD', ...execForm('HEALTHCHECK')]), 'the image\'s own check');
    assert.match(await roomy.waitForHealth('healthy'), /^DISK OK /);
    assert.match(await warned.waitForHealth('healthy'), /^DISK WARNING /);
    assert.match(await full.waitForHealth('unhealthy'), /^DISK CRITICAL /);
    assert.equal(await full.running(), true, 'a critical disk is reported, and the container keeps running (HLS_DISK_CRITICAL_ACTION=warn)');
  });

  test('--init: tini is PID 1 and supervisord its child, and docker stop still ends with 0', async (t) => {
    const { engine } = suite;
    const c = await runContainer(t, engine, ['--init', ...onVolume(await volume(t, engine))], PROXY_IMAGE);
    await c.proxyReady();
    const first = await pid1(c);
    assert.match(first.cmdline, /^\/sbin\/docker-init -- hls-bootstrap run/);
    assert.deepEqual(first.children, [`/usr/bin/python3 /usr/bin/supervisord -c ${CONF}`], 'hls-bootstrap became supervisord in its process');
    await assertStopsCleanly(c);
  });

  test('--read-only with a tmpfs /tmp for the rendered config starts, serves and stops with 0', async (t) => {
    const { engine } = suite;
    const c = await runContainer(t, engine, ['--read-only', '--tmpfs', '/tmp', '--env', 'SUPERVISORD_CONF=/tmp/supervisord.conf',
      ...onVolume(await volume(t, engine))], PROXY_IMAGE);
    await c.proxyReady();
    assert.equal((await pid1(c)).cmdline, '/usr/bin/python3 /usr/bin/supervisord -c /tmp/supervisord.conf');
    assert.notEqual((await c.exec(['touch', '/etc/written'], '0')).code, 0, 'the root filesystem is read-only');
    await c.writeSegments();
    await assertStopsCleanly(c);
  });

  test('docker stop during a slow start, while a large volume is being re-owned, ends the container promptly', async (t) => {
    const { engine } = suite;
    const hls = await volume(t, engine);
    // A volume of root's files, as a crashed proxy that ran as root leaves it: every entry needs re-owning.
    const data = await volumePath(engine, hls);
    for (let d = 0; d < 300; d++) {
      const dir = join(data, `recording_${d}`);
      mkdirSync(dir);
      for (let s = 0; s < 1000; s++) closeSync(openSync(join(dir, `segment_${s}.ts`), 'w'));
    }
    const c = await runContainer(t, engine, onVolume(hls), IMAGE);
    // Stop once the walk has begun re-owning: a stream directory of the volume is no longer root's.
    const dirs = readdirSync(data).map((d) => join(data, d));
    await waitFor('the walk to begin', () => (dirs.some((d) => statSync(d).uid !== 0) ? true : undefined), 60_000, 20);
    const stopped = await c.stop(GRACE);
    const logs = await c.logs();
    assert.ok(stopped.seconds < 3, `docker stop took ${stopped.seconds.toFixed(1)} s:\n${logs}`);
    assert.equal(stopped.exitCode, 128 + 15, logs);
    assert.match(logs, /stopped by SIGTERM during the storage step/);
    assert.doesNotMatch(logs, /▶ exec/);
    const untouched = readdirSync(data).filter((d) => d.startsWith('recording_')).filter((d) => statSync(join(data, d, 'segment_999.ts')).uid === 0);
    assert.ok(untouched.length > 0, 'the walk was stopped before it re-owned everything');
  });
});
