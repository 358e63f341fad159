// The adoption path in a real engine: an image whose entry script is upstream's start-container after the
// README's change, ending in `exec hls-bootstrap run "$@"`, with upstream's config as the template; its proxy
// reached over the container's network.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { runContainer, runOnce, volume } from '../support/containers.ts';
import { dockerEnv } from '../support/docker.ts';
import { adoptionImage, ADOPTION_IMAGE } from '../support/images.ts';
import { waitFor } from '../support/processes.ts';
import type { ProxyReport } from '../support/containers.ts';
import { engineSuite, needsEngine } from '../support/suite.ts';

const HLS = dockerEnv().HLS_TEMP_DIR ?? '';

describe('the adoption path: upstream\'s entry script and config on hls-bootstrap, in a real engine', needsEngine(), () => {
  const suite = engineSuite();
  // Once for both tests: a build on the layer cache still costs seconds.
  before(async () => {
    await adoptionImage(suite.engine);
  });

  test('the entry script hands over to hls-bootstrap, supervisord becomes PID 1 with every program, and the proxy answers on the container\'s address', async (t) => {
    const { engine } = suite;
    const c = await runContainer(t, engine, ['--env', 'M3U_PROXY_HOST=0.0.0.0', '--env', 'M3U_PROXY_TOKEN=adoption-token',
      '--mount', `type=volume,source=${await volume(t, engine)},destination=${HLS}`], ADOPTION_IMAGE);
    const address = await c.inspect('{{.NetworkSettings.IPAddress}}');
    assert.match(address, /^\d+\.\d+\.\d+\.\d+$/);
    const port = 8085;
    const report = await waitFor(`the proxy on ${address}:${port}`, async () => {
      if (!await c.running()) throw new Error(`the container exited:\n${await c.logs()}`);
      try {
        const answer = await fetch(`http://${address}:${port}/report`, { signal: AbortSignal.timeout(2000) });
        return answer.ok ? await answer.json() as ProxyReport : undefined;
      } catch {
        return undefined;
      }
    }, 60_000, 250);

    const logs = await c.logs();
    assert.match(logs, /⚠️ {2}WARNING: Embedded mode enabled but M3U_PROXY_HOST is not localhost\n {4}Current value: 0\.0\.0\.0\n/);
    assert.match(logs, /✅ HLS storage configured\n/);
    assert.equal(report.ppid, 1);
    assert.equal(report.uid, 0, 'SUPERVISOR_PHP_USER=root, as upstream forces it');
    const env = report.env;
    assert.deepEqual([env.HOST, env.PORT, env.API_TOKEN, env.HLS_TEMP_DIR, env.REDIS_DB],
      ['0.0.0.0', String(port), 'adoption-token', HLS, '6']);
    // The names the proxy reads that upstream's line lacked or misnamed: the Redis port, the broadcast settings.
    assert.deepEqual([env.REDIS_SERVER_PORT, env.HLS_BROADCAST_DIR, env.BROADCAST_GC_ENABLED], ['36790', HLS, 'true']);
    // A program is STARTING for its first second (startsecs), whatever comes after: wait until none is.
    const settled = await waitFor('every program past STARTING', async () => {
      const status = await c.exec(['supervisorctl', '-c', '/etc/supervisor/conf.d/supervisord.conf', 'status']);
      const states = status.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(0, 2).join(' ')).sort();
      return states.some((state) => state.endsWith(' STARTING')) ? undefined : states;
    }, 30_000, 250);
    // Upstream's eleven programs, as start-container's defaults decide: no local Postgres, no broadcasts.
    assert.deepEqual(settled, ['crond RUNNING', 'db-init STOPPED', 'm3u-proxy RUNNING', 'network-broadcast STOPPED', 'nginx RUNNING',
      'php-fpm RUNNING', 'postgresql STOPPED', 'proxy-webhook RUNNING', 'queue RUNNING', 'redis RUNNING', 'websocket RUNNING']);
    // supervisord stops its programs one priority group per second: ended by itself, with 0, not killed at the grace.
    assert.equal((await c.stop()).exitCode, 0, await c.logs());
  });

  test('a command given to the container runs after the storage step, as upstream\'s exec "$@" did', async (t) => {
    const { engine } = suite;
    const r = await runOnce(engine, ['--mount', `type=volume,source=${await volume(t, engine)},destination=${HLS}`], ADOPTION_IMAGE,
      ['bash', '-c', 'stat --format "%U:%G %a" "$HLS_TEMP_DIR"; echo "$SUPERVISOR_PHP_USER $M3U_PROXY_START_EMBEDDED"']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✅ HLS storage configured\n/);
    assert.match(r.stdout, /\nm3ue:root 2775\nroot true\n$/);
  });
});
