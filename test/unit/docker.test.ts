// Static checks of docker/: what the Dockerfile copies exists, every variable is known and valid, every command is real.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from '../../src/1-config/resolve.ts';
import { parseGroup, parsePasswd, userDb } from '../../src/1-config/users.ts';
import { VARIABLES, type Context } from '../../src/1-config/variables.ts';
import { ROOT } from '../support/cli.ts';
import { compose, configMap, contextCopies, dockerEnv, execForm, podContainers } from '../support/docker.ts';

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

test('every command the image, compose.yml and Kubernetes run is an hls-bootstrap command', () => {
  const { init, main } = podContainers();
  const commands = [
    execForm('ENTRYPOINT'),
    execForm('HEALTHCHECK'),
    ...Object.values(compose().services).flatMap((s) => (s.healthcheck === undefined ? [] : [s.healthcheck.test.slice(1)])),
    ...init.flatMap((c) => (c.command === undefined ? [] : [c.command])),
    ...main.flatMap((c) => [c.readinessProbe?.exec?.command, c.livenessProbe?.exec?.command].filter((x): x is string[] => x !== undefined)),
  ];
  assert.ok(commands.length >= 5);
  for (const argv of commands) {
    assert.equal(argv[0], 'hls-bootstrap', argv.join(' '));
    assert.ok(['run', 'prepare', 'check-disk', 'render-config', 'env'].includes(argv[1] ?? ''), argv.join(' '));
  }
});
