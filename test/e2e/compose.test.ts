// docker/compose.yml run by Debian's docker-compose 1.29 against a real engine: each variant in its own
// profile, the project name and default profile from docker/.env, the volume, the healthcheck.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { stringify } from 'yaml';
import { Container } from '../support/containers.ts';
import { defer } from '../support/defer.ts';
import { compose, composeDotEnv, DOCKER } from '../support/docker.ts';
import type { Engine } from '../support/engine.ts';
import { PROXY_IMAGE } from '../support/images.ts';
import { engineSuite, needsEngine } from '../support/suite.ts';

const PROJECT = composeDotEnv().COMPOSE_PROJECT_NAME ?? '';
const ALL_IN_ONE = 'm3u-editor';
const EXTERNAL = 'm3u-editor-external-proxy';

/**
 * docker-compose on docker/compose.yml and an override that changes only what a test must: the stand-in
 * proxy's image (built FROM the compose image) and the healthcheck's timing, so its verdict comes in seconds.
 */
function composer(t: TestContext, engine: Engine): (...args: string[]) => Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hlsb-compose-'));
  defer(t, () => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  });
  const override = join(dir, 'override.yml');
  writeFileSync(override, stringify({
    services: {
      [ALL_IN_ONE]: { image: PROXY_IMAGE, healthcheck: { interval: '1s', start_period: '1s' } },
      [EXTERNAL]: { image: PROXY_IMAGE },
    },
  }));
  const run = async (...args: string[]): Promise<string> => {
    const r = await engine.compose(['--file', join(DOCKER, 'compose.yml'), '--file', override, ...args]);
    assert.equal(r.code, 0, `docker-compose ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
    return r.stdout + r.stderr;
  };
  defer(t, () => run('--profile', 'all-in-one', '--profile', 'external-proxy', 'down', '--volumes'));
  return run;
}

/** The project's running containers, by service. */
async function services(engine: Engine): Promise<Record<string, Container>> {
  const lines = await engine.dockerOk(['ps', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--format', '{{.Label "com.docker.compose.service"}} {{.Names}}']);
  return Object.fromEntries(lines.split('\n').filter(Boolean).map((line) => {
    const [service = '', name = ''] = line.split(' ');
    return [service, new Container(engine, name)];
  }));
}

describe('compose.yml, run by docker-compose 1.29 against a real engine', needsEngine(), () => {
  const suite = engineSuite();

  test('up starts the all-in-one service alone, healthy, with its variables and its named volume, kept across down', async (t) => {
    const { engine } = suite;
    assert.equal(PROJECT, 'm3u-editor');
    const up = composer(t, engine);
    await up('up', '--detach');
    const running = await services(engine);
    assert.deepEqual(Object.keys(running), [ALL_IN_ONE], 'only the variant of the default profile');
    const c = running[ALL_IN_ONE];
    assert.ok(c);
    assert.match(await c.waitForHealth('healthy'), /^DISK OK /);
    const proxy = await c.proxyReady();
    const env = compose().services[ALL_IN_ONE]?.environment ?? {};
    assert.deepEqual(
      [proxy.env.HLS_TEMP_DIR, proxy.env.HLS_GC_ENABLED, proxy.env.HLS_GC_INTERVAL, proxy.env.HLS_GC_AGE_THRESHOLD, proxy.env.HOST, proxy.env.PORT, proxy.env.LOG_LEVEL, proxy.env.REDIS_DB],
      [env.HLS_TEMP_DIR, env.HLS_GC_ENABLED, env.HLS_GC_INTERVAL, env.HLS_GC_AGE_THRESHOLD, env.M3U_PROXY_HOST, env.M3U_PROXY_PORT, env.M3U_PROXY_LOG_LEVEL, env.M3U_PROXY_REDIS_DB],
    );
    const mounts = JSON.parse(await c.inspect('{{json .Mounts}}')) as { Name: string; Destination: string }[];
    assert.deepEqual(mounts.map((m) => [m.Name, m.Destination]), [[`${PROJECT}_hls-segments`, env.HLS_TEMP_DIR]]);
    const written = await c.writeSegments();

    await up('down');
    assert.deepEqual(await services(engine), {});
    await up('up', '--detach');
    const again = (await services(engine))[ALL_IN_ONE];
    assert.ok(again);
    await again.proxyReady();
    assert.match(await again.stat(join(written.dir, 'segment_0.ts')), / 0644$/, 'the named volume outlived down');
    assert.equal((await again.stop()).exitCode, 0);
  });

  test('--profile external-proxy starts only its variant: no HLS storage, supervisord up without the embedded proxy', async (t) => {
    const { engine } = suite;
    const up = composer(t, engine);
    await up('--profile', 'external-proxy', 'up', '--detach');
    const running = await services(engine);
    assert.deepEqual(Object.keys(running), [EXTERNAL]);
    const c = running[EXTERNAL];
    assert.ok(c);
    const logs = await c.waitForLog(/supervisord started with pid 1/);
    assert.match(logs, /HLS storage skipped: M3U_PROXY_ENABLED=false/);
    const status = await c.exec(['supervisorctl', '-s', 'unix:///tmp/supervisor.sock', 'status', 'm3u-proxy']);
    assert.match(status.stdout, /^m3u-proxy\s+STOPPED/, 'autostart=false: M3U_PROXY_START_EMBEDDED follows M3U_PROXY_ENABLED');
    const conf = await c.exec(['cat', '/etc/supervisor/conf.d/supervisord.conf']);
    const line = conf.stdout.split('\n').find((l) => l.startsWith('environment=')) ?? '';
    assert.match(line, /[=,]HOST="m3u-proxy",/);
    assert.match(line, /[=,]PORT="8085",/);
    assert.equal((await c.stop()).exitCode, 0);
  });
});
