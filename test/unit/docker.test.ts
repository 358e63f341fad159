// Static checks of docker/: what the Dockerfile copies exists, every variable is known and valid, every command is real.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from '../../src/1-config/resolve.ts';
import { parseGroup, parsePasswd, userDb } from '../../src/1-config/users.ts';
import { VARIABLES, type Context } from '../../src/1-config/variables.ts';
import { ROOT } from '../support/root.ts';
import { compose, composeDotEnv, configMap, contextCopies, dockerEnv, dockerfile, execForm, podContainers, podSpec } from '../support/docker.ts';
import { baseImage, IMAGE } from '../support/images.ts';

/** The image's own user database: root, and m3ue (999:999) as the Dockerfile creates it. */
const image: Context = {
  users: userDb(parsePasswd('root:x:0:0::/root:/bin/sh\nm3ue:x:999:999::/var/www:/usr/sbin/nologin\n'), parseGroup('root:x:0:\nm3ue:x:999:\n')),
  euid: 0, egid: 0, randomHex: (n) => '0'.repeat(2 * n),
};
const known = new Set<string>(VARIABLES.map((v) => v.name));

/** Asserts every variable is in the table and the set resolves without a problem. */
function assertValid(where: string, env: Record<string, string>): void {
  for (const name of Object.keys(env)) assert.ok(known.has(name), `${where}: ${name} is not a configuration variable`);
  assert.doesNotThrow(() => resolveConfig([{ source: where, values: env }], image), where);
}

test('every path the Dockerfile copies from the build context exists', () => {
  const sources = contextCopies();
  assert.ok(sources.length >= 5, sources.join(' '));
  for (const source of sources) assert.ok(existsSync(join(ROOT, source)), `COPY ${source}`);
});

test('every variable the image, compose.yml and the ConfigMap set is a configuration variable with a valid value', () => {
  assertValid('Dockerfile ENV', dockerEnv());
  for (const [name, service] of Object.entries(compose().services)) {
    assertValid(`compose.yml ${name}`, { ...dockerEnv(), ...service.environment });
  }
  assertValid('ConfigMap', { ...dockerEnv(), ...configMap() });
});

test('the image keeps the SUPERVISORD_TEMPLATE default, where the Dockerfile puts the template', () => {
  const template = VARIABLES.find((v) => v.name === 'SUPERVISORD_TEMPLATE')?.default;
  assert.equal(dockerEnv().SUPERVISORD_TEMPLATE, template);
  const copy = contextCopies().indexOf('docker/supervisord.conf');
  assert.ok(copy >= 0);
});

/** The socket supervisorctl reaches supervisord on, from the shipped template's [unix_http_server]. */
const SOCKET = /^\[unix_http_server\]\n(?:.*\n)*?file=(.*)$/m.exec(readFileSync(join(ROOT, 'docker', 'supervisord.conf'), 'utf8'))?.[1];

test('every command the image, compose.yml and Kubernetes run is an hls-bootstrap command, or supervisorctl on the template\'s socket', () => {
  const { init, main } = podContainers();
  const commands = [
    execForm('ENTRYPOINT'),
    execForm('HEALTHCHECK'),
    ...Object.values(compose().services).flatMap((s) => (s.healthcheck === undefined ? [] : [s.healthcheck.test.slice(1)])),
    ...init.flatMap((c) => (c.command === undefined ? [] : [c.command])),
    ...main.flatMap((c) => [c.readinessProbe?.exec?.command, c.livenessProbe?.exec?.command].filter((x): x is string[] => x !== undefined)),
  ];
  assert.ok(commands.length >= 6);
  for (const argv of commands) {
    if (argv[0] === 'supervisorctl') {
      assert.deepEqual(argv.slice(0, 3), ['supervisorctl', '-s', `unix://${SOCKET ?? ''}`], argv.join(' '));
      continue;
    }
    assert.equal(argv[0], 'hls-bootstrap', argv.join(' '));
    assert.ok(['run', 'prepare', 'check-disk', 'render-config', 'env'].includes(argv[1] ?? ''), argv.join(' '));
  }
});

test('.dockerignore admits what the Dockerfile copies from the context, and nothing else', () => {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(patterns[0], '*', 'everything is left out first');
  const admitted = patterns.slice(1).map((p) => p.replace(/^!/, '').replace(/\/$/, ''));
  assert.ok(patterns.slice(1).every((p) => p.startsWith('!')));
  assert.deepEqual(admitted.sort(), contextCopies().map((c) => c.replace(/^\.\//, '').replace(/\/$/, '')).sort());
});

test('the image keeps the volume writable by group 0, setgid, and a root start keeps it so', () => {
  const env = dockerEnv();
  assert.equal(env.WWWGROUP, '0');
  const mode = Number.parseInt(env.HLS_DIR_MODE ?? '', 8);
  assert.equal(mode & 0o2070, 0o2070, `HLS_DIR_MODE ${env.HLS_DIR_MODE ?? ''}: group rwx and setgid`);
  const volume = dockerfile().find((i) => i.keyword === 'VOLUME')?.args;
  assert.equal(volume, JSON.stringify([env.HLS_TEMP_DIR]));
  for (const service of Object.values(compose().services)) {
    for (const name of ['WWWUSER', 'WWWGROUP', 'HLS_DIR_MODE']) assert.equal(service.environment?.[name], undefined, `compose.yml sets ${name}, the image's to keep`);
  }
});

test('every stage builds on the same node:<major>-<suite>-slim, the Node the toolchain pins', () => {
  const pinned = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'node', 'package.json'), 'utf8')) as { version: string };
  assert.equal(baseImage().nodeMajor, pinned.version.split('.')[0]);
});

test('compose.yml: each variant in a profile of its own, the default one and the project name in docker/.env, no top-level name:', () => {
  const file = compose() as { services: Record<string, { profiles?: readonly string[]; image?: string }> } & Record<string, unknown>;
  assert.equal(file.name, undefined, 'docker-compose 1.29 refuses a top-level name: key');
  const profiles = Object.values(file.services).map((s) => s.profiles ?? []);
  assert.ok(profiles.every((p) => p.length === 1), 'a service without a profile would start with every --profile');
  assert.equal(new Set(profiles.flat()).size, profiles.length);
  assert.equal(file.services['m3u-editor']?.profiles?.[0], composeDotEnv().COMPOSE_PROFILES);
  assert.equal(composeDotEnv().COMPOSE_PROJECT_NAME, 'm3u-editor');
  for (const service of Object.values(file.services)) assert.equal(service.image, IMAGE);
});

test('Kubernetes: probes that run inside the pod, fsGroup with OnRootMismatch, and a volume prepared the way it checks', () => {
  const spec = podSpec();
  const fsGroup = spec.securityContext?.fsGroup;
  assert.equal(spec.securityContext?.fsGroupChangePolicy, 'OnRootMismatch');
  for (const c of [...spec.initContainers ?? [], ...spec.containers]) assert.equal(c.image, IMAGE);
  for (const c of spec.containers) {
    for (const probe of [c.readinessProbe, c.livenessProbe]) {
      assert.ok(probe?.exec, `${c.name}: a probe that asks from inside (the proxy listens on 127.0.0.1)`);
      assert.deepEqual(Object.keys(probe).filter((k) => ['tcpSocket', 'httpGet', 'grpc'].includes(k)), []);
    }
  }
  const data = configMap();
  const config = resolveConfig([{ source: 'ConfigMap', values: { ...dockerEnv(), ...data } }], image);
  assert.equal(config.values.WWWGROUP.id, fsGroup, 'the storage step gives the volume to the fsGroup, which kubelet checks');
  assert.equal(config.values.HLS_DIR_MODE & 0o2070, 0o2070, 'group rwx and setgid, which kubelet checks');
});
