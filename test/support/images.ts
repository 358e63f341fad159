// The images the engine tests run: local stand-ins for the official base images, built once per content
// and kept in the engine's data root, then docker/Dockerfile built unchanged on them, then the test images.

import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './root.ts';
import { dockerfile } from './docker.ts';
import { STATE, type Engine } from './engine.ts';
import { output } from './run.ts';

const FIXTURES = join(ROOT, 'test', 'fixtures');
/** The label that records what went into a stand-in; a stand-in whose label differs is built again. */
const KEY_LABEL = 'org.hls-bootstrap.stand-in';
const PINNED_NODE = join(ROOT, 'node_modules', 'node', 'bin', 'node');
/** The machine's CA bundle: the stand-in trusts what the machine trusts (a TLS-intercepting proxy included). */
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Debian's archive as the official images use it; plain http, which apt verifies by signature. */
const DEBIAN_SOURCES = (suite: string): string[] => [
  `deb http://deb.debian.org/debian ${suite} main`,
  `deb http://deb.debian.org/debian ${suite}-updates main`,
  `deb http://deb.debian.org/debian-security ${suite}-security main`,
];

/** mmdebstrap's arguments before the suite: a minbase with merged /usr, without documentation, as -slim images are. */
const MMDEBSTRAP_OPTIONS = [
  '--variant=minbase', '--mode=root', '--format=tar', '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
  '--aptopt=Acquire::Languages "none"',
  ...['/usr/share/man/*', '/usr/share/locale/*', '/usr/share/doc/*', '/usr/share/info/*'].map((p) => `--dpkgopt=path-exclude=${p}`),
  '--dpkgopt=path-include=/usr/share/locale/locale.alias', '--dpkgopt=path-include=/usr/share/doc/*/copyright',
];

function sha256(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

async function fileHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The base image docker/Dockerfile builds on, from its FROM lines: every stage must use the same one. */
export function baseImage(): { name: string; nodeMajor: string; suite: string } {
  const froms = dockerfile().filter((i) => i.keyword === 'FROM').map((i) => i.args.split(/\s+/)[0] ?? '');
  const name = froms[0] ?? '';
  const match = /^node:(\d+)-(\w+)-slim$/.exec(name);
  if (match?.[1] === undefined || match[2] === undefined || froms.some((f) => f !== name)) {
    throw new Error(`docker/Dockerfile builds on ${froms.join(', ')}; the stand-in can only be node:<major>-<suite>-slim, the same in every stage`);
  }
  return { name, nodeMajor: match[1], suite: match[2] };
}

/** The npm this Node release bundles, from its changelog: the latest "upgrade npm to X" at or before this release. */
function bundledNpm(nodeVersion: string): string {
  const packages = join(ROOT, 'node_modules', 'node', 'node_modules');
  const arch = readdirSync(packages).find((name) => name.startsWith('node-linux-'));
  if (arch === undefined) throw new Error(`no node-linux-* package in ${packages}`);
  const changelog = readFileSync(join(packages, arch, 'CHANGELOG.md'), 'utf8');
  const from = changelog.indexOf(`<a id="${nodeVersion}"></a>`);
  const npm = /upgrade npm to (\d+\.\d+\.\d+)/.exec(changelog.slice(Math.max(from, 0)))?.[1];
  if (from < 0 || npm === undefined) throw new Error(`cannot tell from ${arch}'s changelog which npm Node ${nodeVersion} bundles`);
  return npm;
}

/** npm's package, from the registry through npm itself, kept in the engine's state. */
async function npmTarball(version: string): Promise<string> {
  const dir = join(STATE, 'npm');
  const tarball = join(dir, `npm-${version}.tgz`);
  if (existsSync(tarball)) return tarball;
  mkdirSync(dir, { recursive: true });
  // npm's shebang runs the pinned Node, found first on PATH.
  const env = { ...process.env, PATH: `${dirname(PINNED_NODE)}:/usr/local/bin:/usr/bin:/bin` } as Record<string, string>;
  await output('npm', ['pack', `npm@${version}`, '--pack-destination', dir, '--silent'], { env, timeout: 300_000 });
  if (!existsSync(tarball)) throw new Error(`npm pack npm@${version} did not write ${tarball}`);
  return tarball;
}

async function label(engine: Engine, image: string): Promise<string | undefined> {
  const r = await engine.docker(['image', 'inspect', '--format', `{{index .Config.Labels "${KEY_LABEL}"}}`, image]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'hlsb-image-'));
}

/** debian:<suite>-slim, imported from mmdebstrap's tarball; built only when its key is not the image's. */
async function debianStandIn(engine: Engine, suite: string): Promise<string> {
  const name = `debian:${suite}-slim`;
  const key = sha256('debian', ...MMDEBSTRAP_OPTIONS, suite, ...DEBIAN_SOURCES(suite));
  if (await label(engine, name) === key) return key;
  const dir = scratch();
  try {
    const tarball = join(dir, 'rootfs.tar');
    await output('mmdebstrap', [...MMDEBSTRAP_OPTIONS, suite, tarball, ...DEBIAN_SOURCES(suite)], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', TMPDIR: dir }, timeout: 900_000,
    });
    await engine.dockerOk(['import', '--change', `LABEL ${KEY_LABEL}=${key}`, '--change', 'CMD ["bash"]', tarball, name], { timeout: 300_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return key;
}

/** node:<major>-<suite>-slim: the Debian stand-in, the pinned Node binary, the npm it bundles, the machine's CAs. */
async function nodeStandIn(engine: Engine): Promise<void> {
  const base = baseImage();
  const nodeVersion = (await output(PINNED_NODE, ['--version'], { env: {} })).trim().replace(/^v/, '');
  if (nodeVersion.split('.')[0] !== base.nodeMajor) {
    throw new Error(`docker/Dockerfile builds on ${base.name}, but the pinned Node is ${nodeVersion}: the stand-in would be another Node`);
  }
  const debianKey = await debianStandIn(engine, base.suite);
  const npm = bundledNpm(nodeVersion);
  const fixture = join(FIXTURES, 'node-image');
  const fixtureFiles = readdirSync(fixture).sort();
  const key = sha256('node', debianKey, await fileHash(PINNED_NODE), npm, readFileSync(CA_BUNDLE),
    ...fixtureFiles.flatMap((f) => [f, readFileSync(join(fixture, f))]));
  if (await label(engine, base.name) === key) return;
  const tarball = await npmTarball(npm);
  const context = scratch();
  try {
    for (const file of fixtureFiles) copyFileSync(join(fixture, file), join(context, file));
    try {
      linkSync(PINNED_NODE, join(context, 'node'));
    } catch {
      copyFileSync(PINNED_NODE, join(context, 'node'));
    }
    copyFileSync(CA_BUNDLE, join(context, 'ca-certificates.crt'));
    mkdirSync(join(context, 'npm'));
    await output('tar', ['--extract', '--gzip', '--file', tarball, '--strip-components=1', '--directory', join(context, 'npm')], { env: { PATH: '/usr/bin:/bin' } });
    await engine.dockerOk(['build', '--network', 'host', '--build-arg', `DEBIAN=debian:${base.suite}-slim`, '--build-arg', `NODE_VERSION=${nodeVersion}`,
      '--label', `${KEY_LABEL}=${key}`, '--tag', base.name, context], { timeout: 600_000 });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

export interface Built {
  readonly tag: string;
  /** What the legacy builder reported sending as the build context, in bytes. */
  readonly contextBytes: number;
}

/** `docker build`; builds share the daemon's layer cache, so an unchanged image costs a few seconds. */
export async function build(engine: Engine, tag: string, context: string, args: readonly string[] = []): Promise<Built> {
  // The host's network: the test engine's bridge has no route out (no iptables rules of its own).
  const log = await engine.dockerOk(['build', '--network', 'host', '--tag', tag, ...args, context], { timeout: 900_000 });
  const sent = /Sending build context to Docker daemon\s+([\d.]+)([kMG]?B)/.exec(log);
  const unit = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[sent?.[2] ?? 'B'] ?? 1;
  return { tag, contextBytes: Math.round(Number(sent?.[1] ?? Number.NaN) * unit) };
}

/** The image names the deployments declare: compose.yml's and the Kubernetes manifests' must agree. */
export const IMAGE = 'm3u-editor-hls:latest';
/** The image with a stand-in proxy at /opt/m3u-proxy, as an image that adds the proxy builds it. */
export const PROXY_IMAGE = 'm3u-editor-hls-proxy:test';

export interface Images {
  /** docker/Dockerfile, built unchanged from the repository root. */
  readonly image: Built;
  readonly proxy: Built;
}

/** Every image the engine tests run, built in order: stand-ins (when what goes into them changed), the image, the test images. */
export async function buildImages(engine: Engine): Promise<Images> {
  await nodeStandIn(engine);
  const image = await build(engine, IMAGE, ROOT, ['--file', join(ROOT, 'docker', 'Dockerfile')]);
  const proxy = await build(engine, PROXY_IMAGE, join(FIXTURES, 'm3u-proxy'), ['--build-arg', `BASE=${IMAGE}`]);
  return { image, proxy };
}

/** The adoption path's image: upstream's entry script and template (test/fixtures/upstream), FROM the image with the stand-in proxy. */
export const ADOPTION_IMAGE = 'm3u-editor-hls-adoption:test';

/**
 * An image that adopts hls-bootstrap as m3u-editor's does: the same start-container and
 * supervisord.conf that the host tests run (test/fixtures/upstream), on the image with the stand-in
 * proxy, built with that directory's Dockerfile.
 */
export function adoptionImage(engine: Engine): Promise<Built> {
  const dir = join(FIXTURES, 'upstream');
  return build(engine, ADOPTION_IMAGE, dir, ['--file', join(dir, 'Dockerfile'), '--build-arg', `BASE=${PROXY_IMAGE}`]);
}
