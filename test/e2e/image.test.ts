// What the image does at start, without a Docker engine: the Dockerfile's and the manifests' exact commands,
// with their variables, on this machine, as root, under the real supervisord, with a stand-in proxy.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { BIN, NODE, PATH, ROOT, tempDir } from '../support/cli.ts';
import { compose, configMap, dockerEnv, execForm, podContainers } from '../support/docker.ts';
import { needsProgram, needsRoot } from '../support/require.ts';
import { STAND_IN, type StandInReport } from '../support/supervisord.ts';
import { ensureUser, type TestUser } from '../support/system.ts';

const IMAGE_HLS_DIR = '/var/www/html/storage/app/hls-segments';

interface Machine {
  readonly dir: string;
  /** PATH with `hls-bootstrap` as the image has it: a symlink to the shim. */
  readonly path: string;
  readonly report: string;
  readonly hls: string;
  /** Where the image keeps its files, moved into `dir`: the segment directory, the template, the config. */
  readonly moved: Record<string, string>;
}

/** This machine set up as the image is: hls-bootstrap on PATH, the shipped template with a stand-in proxy. */
function machine(t: TestContext): Machine {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(BIN, join(bin, 'hls-bootstrap'));
  const report = join(dir, 'run', 'report.json');
  mkdirSync(join(dir, 'run'), { mode: 0o777 });
  chmodSync(join(dir, 'run'), 0o777);
  // The shipped template; only what cannot run here changes: the proxy program, and supervisord's
  // own files in /tmp, which another test's supervisord may hold. Its log goes to a file, since
  // a Node child's stdout is a socket and supervisord cannot open /dev/stdout on one.
  const template = readFileSync(join(ROOT, 'docker', 'supervisord.conf'), 'utf8')
    .replace('command=/usr/bin/python3 /opt/m3u-proxy/main.py', `command=${NODE} ${STAND_IN} --out ${report}`)
    .replace('stdout_logfile=/dev/stdout', `stdout_logfile=${join(dir, 'run', 'proxy.log')}`)
    .replaceAll('/tmp/supervisor', join(dir, 'run', 'supervisor'));
  writeFileSync(join(dir, 'supervisord.tmpl'), template);
  const hls = join(dir, 'hls-segments');
  return {
    dir, path: `${bin}:${PATH}`, report, hls,
    moved: { HLS_TEMP_DIR: hls, SUPERVISORD_TEMPLATE: join(dir, 'supervisord.tmpl'), SUPERVISORD_CONF: join(dir, 'run', 'supervisord.conf') },
  };
}

/** The variables a container gets: the image's ENV, then the deployment's, with the image's paths moved. */
function containerEnv(m: Machine, ...layers: Record<string, string>[]): Record<string, string> {
  const env: Record<string, string> = { ...dockerEnv() };
  for (const layer of layers) Object.assign(env, layer);
  assert.equal(env.HLS_TEMP_DIR, IMAGE_HLS_DIR, 'the deployment keeps the image\'s segment directory');
  return { ...env, ...m.moved, PATH: m.path, HOME: m.dir };
}

/** argv as `user` runs it: its database groups, or none for a uid without an entry (docker run --user 12345). */
function as(user: TestUser | undefined, argv: readonly string[]): readonly string[] {
  if (user === undefined) return argv;
  const groups = /^\d+$/.test(user.name) ? '--clear-groups' : '--init-groups';
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, groups, '--', ...argv];
}

/** Runs an exec-form command as the image would, to completion. */
function exec(argv: readonly string[], env: Record<string, string>, user?: TestUser): { code: number | null; stdout: string; stderr: string } {
  const [file, ...args] = as(user, argv);
  const r = spawnSync(file ?? '', args, { env, encoding: 'utf8', timeout: 60_000, cwd: '/' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts the ENTRYPOINT, waits for the stand-in proxy's report (or, with `until`, for output that
 * matches it), runs `probe` while it runs, then stops it.
 */
async function start(m: Machine, argv: readonly string[], env: Record<string, string>, probe: () => void,
  user?: TestUser, until?: RegExp): Promise<{ report: StandInReport | undefined; pid: number; output: string }> {
  const [file, ...args] = as(user, argv);
  const child = spawn(file ?? '', args, { env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const closed = new Promise((resolve) => child.once('close', resolve));
  const ready = (): boolean => (until === undefined ? existsSync(m.report) : until.test(output));
  const deadline = Date.now() + 30_000;
  while (!ready() && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 100));
  try {
    assert.ok(ready(), `it never got that far:\n${output}`);
    probe();
  } finally {
    child.kill('SIGTERM');
    await closed;
  }
  const report = existsSync(m.report) ? JSON.parse(readFileSync(m.report, 'utf8')) as StandInReport : undefined;
  return { report, pid: child.pid ?? -1, output };
}

function ownerAndMode(path: string): string {
  const st = statSync(path);
  return `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
}

describe('the image, started as docker compose starts it', () => {
  test('ENTRYPOINT with compose.yml\'s variables: the HLS directory is prepared, supervisord runs the proxy with them, HEALTHCHECK passes', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'supervisord')) return;
    const m3ue = ensureUser('m3ue');
    const m = machine(t);
    const service = compose().services['m3u-editor'];
    assert.ok(service?.environment);
    const env = containerEnv(m, service.environment, { M3U_PROXY_TOKEN: 'compose-token' });
    const healthcheck = execForm('HEALTHCHECK');
    const started = await start(m, execForm('ENTRYPOINT'), env, () => {
      assert.equal(exec(healthcheck, env).code, 0, 'HEALTHCHECK');
      assert.equal(exec(service.healthcheck?.test.slice(1) ?? [], env).code, 0, 'compose healthcheck');
    });
    assert.ok(started.report);
    assert.equal(started.report.ppid, started.pid, 'supervisord took over the ENTRYPOINT\'s process');
    assert.equal(ownerAndMode(m.hls), `${m3ue.uid}:${m3ue.gid} 755`);
    assert.equal(readFileSync(join(m.hls, '.gitignore'), 'utf8'), '*\n!.gitignore\n');
    const proxy = started.report.env;
    assert.deepEqual(
      [proxy.HOST, proxy.PORT, proxy.LOG_LEVEL, proxy.API_TOKEN, proxy.REDIS_DB, proxy.HLS_TEMP_DIR, proxy.HLS_GC_ENABLED, proxy.HLS_GC_INTERVAL, proxy.HLS_GC_AGE_THRESHOLD],
      ['127.0.0.1', '8085', 'ERROR', 'compose-token', '6', m.hls, 'true', '600', '7200'],
    );
    assert.equal(started.report.uid, m3ue.uid, 'supervisord runs the proxy as WWWUSER');
    assert.equal(statSync(m.moved.SUPERVISORD_CONF ?? '').mode & 0o777, 0o600);
    assert.match(started.output, /✅ HLS storage configured\n/);
  });

  test('the external-proxy variant: no HLS storage, the config rendered, supervisord up without the embedded proxy', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'supervisord')) return;
    ensureUser('m3ue');
    const m = machine(t);
    const variant = compose().services['m3u-editor-external-proxy'];
    assert.ok(variant?.environment);
    const started = await start(m, execForm('ENTRYPOINT'), containerEnv(m, variant.environment), () => undefined, undefined, /supervisord started with pid/);
    assert.ok(!existsSync(m.hls), 'no HLS directory');
    assert.match(started.output, /HLS storage skipped: M3U_PROXY_ENABLED=false/);
    assert.equal(started.report, undefined, 'autostart=false: M3U_PROXY_START_EMBEDDED follows M3U_PROXY_ENABLED');
    assert.match(readFileSync(m.moved.SUPERVISORD_CONF ?? '', 'utf8'), /^environment=.*HOST="m3u-proxy"/m);
  });

  test('docker run --user with another user of group 0 still starts, on the directory as the Dockerfile leaves it', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'supervisord')) return;
    const m3ue = ensureUser('m3ue');
    const other = ensureUser('hlsb-gid0', ['--gid', '0']);
    const m = machine(t);
    // As the Dockerfile leaves it: m3ue's, and group 0's with write access.
    mkdirSync(m.hls);
    chownSync(m.hls, m3ue.uid, 0);
    chmodSync(m.hls, 0o775);
    const started = await start(m, execForm('ENTRYPOINT'), containerEnv(m, {}), () => undefined, other);
    assert.equal(started.report?.uid, other.uid, 'supervisord, started as that user, runs the proxy as itself');
    assert.match(started.output, new RegExp(`not permitted to give it to m3ue:m3ue as uid ${other.uid}; it is writable by uid ${other.uid}, so the start goes on`));
    assert.equal(ownerAndMode(m.hls), `${m3ue.uid}:0 775`);
  });
});

describe('the pod, started as the Kubernetes manifests start it', () => {
  test('the init container prepares the volume as root; the main container starts unprivileged; the probe passes', async (t) => {
    if (!needsRoot(t) || !needsProgram(t, 'supervisord')) return;
    const m3ue = ensureUser('m3ue');
    const m = machine(t);
    const env = containerEnv(m, configMap());
    const { init, main } = podContainers();
    for (const container of init) {
      const r = exec(container.command ?? [], env);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(ownerAndMode(m.hls), `${m3ue.uid}:${m3ue.gid} 755`);
    // The main container runs as m3ue; it writes its config where the ConfigMap points it (a writable /tmp).
    chownSync(join(m.dir, 'run'), m3ue.uid, m3ue.gid);
    const probe = main[0]?.readinessProbe?.exec?.command ?? [];
    const started = await start(m, execForm('ENTRYPOINT'), env, () => {
      assert.equal(exec(probe, env, m3ue).code, 0, 'readiness probe');
    }, m3ue);
    assert.equal(started.report?.uid, m3ue.uid);
    assert.equal(started.report.env.HLS_TEMP_DIR, m.hls);
    assert.doesNotMatch(started.output, /cannot prepare/);
  });
});
