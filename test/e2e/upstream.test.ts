// m3u-editor's image as it is today: its supervisord config, its start script after the adoption
// guide's change, and a stand-in proxy that reads every name the real proxy reads, under the real supervisord.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { BIN, PATH, ROOT, cli, renderTo, tempDir } from '../support/cli.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { reachableDir } from '../support/storage.ts';
import { ensureUser, mountTmpfs, ownerOf } from '../support/system.ts';
import { PHP_COMMANDS, START_CONTAINER, UPSTREAM_TEMPLATE, proxyReport, startUntil, upstreamTemplate, type Setting } from '../support/upstream.ts';

const RUNNING = /success: m3u-proxy entered RUNNING state/;
/**
 * supervisord decides on every program in one pass, and reports one that stays up a second later: by
 * then the proxy would have been spawned, and every program spawned has left supervisord's fork
 * (a stop signal that arrives before a child's exec is lost, and supervisord waits 10 s to kill it).
 */
const ALL_DECIDED = /success: queue entered RUNNING state/;

/** This machine as the container: hls-bootstrap on PATH as the image links it, a fresh directory for everything else. */
function container(t: TestContext): { dir: string; path: string } {
  const dir = reachableDir(t);
  mkdirSync(join(dir, 'bin'));
  symlinkSync(BIN, join(dir, 'bin', 'hls-bootstrap'));
  return { dir, path: `${join(dir, 'bin')}:${PATH}` };
}

/** What the image and start-container give every process, with this machine's paths; no SUPERVISOR_PHP_USER. */
function containerEnv(dir: string, path: string, template: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: path, HOME: dir, LANG: 'C.UTF-8', WWWUSER: 'm3ue', WWWGROUP: 'm3ue',
    SUPERVISORD_TEMPLATE: template, SUPERVISORD_CONF: join(dir, 'supervisord.conf'), HLS_TEMP_DIR: join(dir, 'hls-segments'), LOG_DIR: dir,
    NGINX_ENABLED: 'false', ...PHP_COMMANDS, ...extra,
  };
}

/** The proxy's settings as the stand-in read them, without the generated token, which is checked apart. */
function settings(report: { settings: Record<string, Setting> }): Record<string, Setting> {
  return Object.fromEntries(Object.entries(report.settings).filter(([name]) => name !== 'API_TOKEN'));
}

const env = (value: Setting['value']): Setting => ({ value, from: 'environment' });

test('the start-container fixture ends as the README\'s adoption guide says, and the guide sets both paths', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const guide = readme.slice(readme.indexOf('## Adopting it in m3u-editor\'s image'), readme.indexOf('## Configuration'));
  const last = readFileSync(START_CONTAINER, 'utf8').trimEnd().split('\n').at(-1);
  assert.equal(last, 'exec hls-bootstrap run "$@"');
  assert.ok(guide.includes(`\`\`\`sh\n${last}\n\`\`\``), 'the guide shows that line');
  assert.match(guide, /\+ENV SUPERVISORD_TEMPLATE=\/etc\/supervisor\/conf\.d\/supervisord\.tmpl \\\n\+ {4}SUPERVISORD_CONF=\/etc\/supervisor\/conf\.d\/supervisord\.conf\n/);
});

describe('upstream\'s supervisord.conf', () => {
  test('rendered with the defaults: every other key kept byte for byte, the owned ones set, and supervisord runs the proxy', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'supervisord')) return;
    ensureUser('m3ue');
    const { dir, path } = container(t);
    // A key hls-bootstrap does not own, as upstream may add one: it stays as written, and its reference is checked.
    const template = upstreamTemplate(dir, (text) => text.replace(',HLS_BROADCAST_DIR=', ',DVR_RECORDING_DIR="%(ENV_DVR_RECORDING_DIR)s",HLS_BROADCAST_DIR='));
    const base = containerEnv(dir, path, template, {
      PGDATA: join(dir, 'pgdata'), PG_PORT: '5432', POSTGRES_LOCAL_ENABLED: 'false', NGINX_ENABLED: 'false', REDIS_ENABLED: 'false',
      ...PHP_COMMANDS,
    });
    const unset = cli(['render-config'], { cwd: dir, env: base });
    assert.equal(unset.code, 78);
    assert.equal(unset.stderr, 'hls-bootstrap: the supervisord config refers to %(ENV_DVR_RECORDING_DIR)s, but DVR_RECORDING_DIR is not set in the environment supervisord starts with\n');

    const running = await startUntil([BIN, 'run'], { ...base, DVR_RECORDING_DIR: '/recordings' }, RUNNING);
    const report = proxyReport(dir);
    const code = await running.stop();
    assert.equal(code, 0, running.output());

    const hls = join(dir, 'hls-segments');
    const written = readFileSync(join(dir, 'supervisord.conf'), 'utf8').split('\n');
    const original = readFileSync(template, 'utf8').split('\n');
    const at = original.findIndex((line) => line.startsWith('environment='));
    const token = /API_TOKEN="([0-9a-f]{48})"/.exec(written[at] ?? '')?.[1];
    assert.ok(token !== undefined, written[at]);
    assert.deepEqual(written.filter((_, i) => i !== at), original.filter((_, i) => i !== at), 'every other line as it was');
    assert.equal(written[at], `environment=HOST="127.0.0.1",PORT="8085",LOG_LEVEL="ERROR",API_TOKEN="${token}",REDIS_HOST="localhost",`
      + 'REDIS_PORT="36790",REDIS_DB="6",REDIS_ENABLED="true",ENABLE_TRANSCODING_POOLING="true",'
      + `HLS_TEMP_DIR="${hls}",HLS_GC_ENABLED="true",HLS_GC_INTERVAL="600",HLS_GC_AGE_THRESHOLD="7200",`
      + `DVR_RECORDING_DIR="%(ENV_DVR_RECORDING_DIR)s",HLS_BROADCAST_DIR="${hls}",BROADCAST_GC_ENABLED="true",REDIS_SERVER_PORT="36790"`);
    assert.match(running.output(), /environment= of \[program:m3u-proxy\] edited: 16 variables set \(1 of them added\), 1 of the template's kept as written \(DVR_RECORDING_DIR\)/);

    assert.ok(report, running.output());
    assert.deepEqual(report.problems, []);
    assert.equal(report.uid, 0, 'SUPERVISOR_PHP_USER defaults to root, as upstream forces it');
    assert.deepEqual(report.settings.API_TOKEN, env(token));
    assert.deepEqual(settings(report), {
      HOST: env('127.0.0.1'), PORT: env(8085), LOG_LEVEL: env('ERROR'), REDIS_HOST: env('localhost'), REDIS_SERVER_PORT: env(36790),
      REDIS_DB: env(6), REDIS_PASSWORD: { value: null, from: 'default' }, REDIS_ENABLED: env(true), ENABLE_TRANSCODING_POOLING: env(true),
      HLS_TEMP_DIR: env(hls), HLS_GC_ENABLED: env(true), HLS_GC_INTERVAL: env(600), HLS_GC_AGE_THRESHOLD: env(7200),
      HLS_BROADCAST_DIR: env(hls), BROADCAST_GC_ENABLED: env(true), DVR_RECORDING_DIR: env('/recordings'),
    });
  });

  test('render-config --check passes it with eleven programs and no warning from Node', (t) => {
    if (!needsProgram(t, 'supervisord')) return;
    const dir = tempDir(t);
    const r = cli(['render-config', '--check'], { cwd: dir, env: {
      SUPERVISORD_TEMPLATE: UPSTREAM_TEMPLATE, PGDATA: dir, PG_PORT: '5432', POSTGRES_LOCAL_ENABLED: 'false', LOG_DIR: dir, NGINX_ENABLED: 'false',
      REDIS_ENABLED: 'false', SUPERVISOR_PHP_COMMAND: 'x', WEBSOCKET_PHP_COMMAND: 'x', QUEUE_PHP_COMMAND: 'x',
    } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /✅ environment= reads back exactly in supervisord 4\.2 \(non-POSIX shlex\) and POSIX shlex: the 16 variables set\n/);
    assert.match(r.stdout, /✅ \S*supervisord loaded it and started/);
  });

  test('render-config --check shows supervisord\'s own reason when it cannot start, never a bare traceback', (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'supervisord')) return;
    ensureUser('m3ue');
    const dir = tempDir(t);
    // [supervisord] user=m3ue: supervisord drops to m3ue first, then cannot open its root-owned log.
    const r = cli(['render-config', '--check'], { cwd: dir, env: {
      SUPERVISORD_TEMPLATE: UPSTREAM_TEMPLATE, SUPERVISOR_PHP_USER: 'm3ue', PGDATA: dir, PG_PORT: '5432', POSTGRES_LOCAL_ENABLED: 'false',
      LOG_DIR: dir, NGINX_ENABLED: 'false', REDIS_ENABLED: 'false', SUPERVISOR_PHP_COMMAND: 'x', WEBSOCKET_PHP_COMMAND: 'x', QUEUE_PHP_COMMAND: 'x',
    } });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /^hls-bootstrap: supervisord refused the config \(exit 1\): PermissionError: \[Errno 13\] Permission denied: '\S+\/supervisord\.log'\n$/);
  });
});

describe('the adoption chain: start-container, then hls-bootstrap, then supervisord', () => {
  test('the proxy gets every name it reads, broadcast storage on a tmpfs included', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'supervisord')) return;
    const m3ue = ensureUser('m3ue');
    const { dir, path } = container(t);
    const broadcast = join(mountTmpfs(t, join(dir, 'ram'), '512m', ['mode=0755']), 'broadcast');
    const chain = containerEnv(dir, path, upstreamTemplate(dir), { NETWORK_BROADCAST_ENABLED: 'true', HLS_BROADCAST_DIR: broadcast });

    const running = await startUntil([START_CONTAINER], chain, RUNNING);
    const report = proxyReport(dir);
    assert.equal(await running.stop(), 0, running.output());
    assert.match(running.output(), /✅ HLS storage configured\n📡 Configuring broadcast segment storage\.\.\.\n {3}HLS_BROADCAST_DIR: \S+\/broadcast\n {3}Creating broadcast storage directory\.\.\.\n/);
    assert.match(running.output(), /✅ Broadcast storage configured\n/);
    assert.equal(ownerOf(broadcast), `${m3ue.uid}:${m3ue.gid}`);

    assert.ok(report, running.output());
    assert.deepEqual(report.problems, []);
    const token = report.settings.API_TOKEN?.value;
    assert.match(String(token), /^[0-9a-f]{48}$/, 'start-container generated the token');
    assert.deepEqual(report.settings.API_TOKEN, env(token ?? null));
    assert.deepEqual(settings(report), {
      HOST: env('127.0.0.1'), PORT: env(8085), LOG_LEVEL: env('ERROR'), REDIS_HOST: env('localhost'), REDIS_SERVER_PORT: env(36790),
      REDIS_DB: env(6), REDIS_PASSWORD: env(token ?? null), REDIS_ENABLED: env(true), ENABLE_TRANSCODING_POOLING: env(true),
      HLS_TEMP_DIR: env(join(dir, 'hls-segments')), HLS_GC_ENABLED: env(true), HLS_GC_INTERVAL: env(600), HLS_GC_AGE_THRESHOLD: env(7200),
      HLS_BROADCAST_DIR: env(broadcast), BROADCAST_GC_ENABLED: env(true), DVR_RECORDING_DIR: { value: '/tmp/m3u-proxy-dvr', from: 'default' },
    });
    assert.equal(report.uid, 0);

    // A command given to the container runs instead of supervisord, after the same steps, with their variables.
    const r = spawnSync(START_CONTAINER, ['printenv', 'HLS_BROADCAST_DIR', 'M3U_PROXY_REDIS_PORT'], { env: chain, cwd: '/', encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`▶ exec printenv HLS_BROADCAST_DIR M3U_PROXY_REDIS_PORT\\n${broadcast}\\n36790\\n$`));
  });

  for (const off of ['M3U_PROXY_ENABLED', 'M3U_PROXY_INTEGRATION_ENABLED']) {
    test(`${off}=false: no storage step, and supervisord does not start the proxy`, async (t) => {
      if (!needsRoot(t) || !needsProgram(t, 'supervisord')) return;
      ensureUser('m3ue');
      const { dir, path } = container(t);
      const chain = containerEnv(dir, path, upstreamTemplate(dir), { [off]: 'false', NETWORK_BROADCAST_ENABLED: 'true', HLS_BROADCAST_DIR: join(dir, 'broadcast') });
      const running = await startUntil([START_CONTAINER], chain, ALL_DECIDED);
      let status;
      try {
        status = spawnSync('supervisorctl', ['-c', join(dir, 'supervisord.conf'), 'status', 'm3u-proxy', 'proxy-webhook'], { encoding: 'utf8', env: { PATH } });
      } finally {
        await running.stop();
      }
      assert.match(status.stdout, /^m3u-proxy +STOPPED +Not started$/m, status.stdout + running.output());
      assert.match(status.stdout, /^proxy-webhook +(STARTING|RUNNING)/m, 'the programs that do autostart were started');
      assert.match(running.output(), new RegExp(`HLS storage skipped: ${off}=false, the proxy does not run in this container\\n`));
      assert.doesNotMatch(running.output(), /Configuring (HLS|broadcast)/);
      assert.ok(!existsSync(join(dir, 'hls-segments')) && !existsSync(join(dir, 'broadcast')), 'no directory created');
      assert.equal(proxyReport(dir), undefined);
    });
  }

  test('embedded mode listening beyond localhost: upstream\'s warning; an external proxy: none', (t) => {
    const dir = tempDir(t);
    const base = { ...renderTo(dir), HLS_TEMP_DIR: join(dir, 'hls'), M3U_PROXY_HOST: '0.0.0.0' };
    const warned = cli(['prepare'], { cwd: dir, env: base });
    assert.equal(warned.code, 0, warned.stderr);
    assert.ok(warned.stderr.startsWith('⚠️  WARNING: Embedded mode enabled but M3U_PROXY_HOST is not localhost\n    Current value: 0.0.0.0\n'
      + "    For AIO/embedded mode, M3U_PROXY_HOST should be 'localhost' or '127.0.0.1'\n"), warned.stderr);
    for (const off of [{ M3U_PROXY_ENABLED: 'false' }, { M3U_PROXY_INTEGRATION_ENABLED: 'false' }, { M3U_PROXY_HOST: 'localhost' }]) {
      const quiet = cli(['prepare'], { cwd: dir, env: { ...base, ...off } });
      assert.equal(quiet.code, 0, quiet.stderr);
      assert.doesNotMatch(quiet.stderr, /M3U_PROXY_HOST/, JSON.stringify(off));
    }
  });
});
