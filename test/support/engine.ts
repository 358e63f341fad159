// A Docker engine of the tests' own: dockerd on its own data root, exec root, pidfile, socket and bridge,
// started by a test file and stopped when it ends, never the machine's default daemon or network.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './root.ts';
import { alive, commandLine, waitFor } from './processes.ts';
import { output, run, type RunOptions, type RunResult } from './run.ts';

/** What the engine keeps between runs: its data root (images, the build cache) and the lock. */
export const STATE = join(ROOT, '.cache', 'engine');
export const DATA_ROOT = join(STATE, 'data');
const LOCK = join(STATE, 'lock');
/** One engine per checkout: its name comes from where its data root is. */
const ID = createHash('sha256').update(DATA_ROOT).digest('hex').slice(0, 8);
/** What lives only while the daemon runs: exec root, socket, pidfile, log. Short, since sockets go inside. */
export const RUN_DIR = `/run/hlsb-${ID}`;
const EXEC_ROOT = join(RUN_DIR, 'exec');
const SOCKET = join(RUN_DIR, 'docker.sock');
const PIDFILE = join(RUN_DIR, 'dockerd.pid');
const LOG = join(RUN_DIR, 'dockerd.log');
/** A bridge of its own instead of docker0, which another daemon on the machine may hold. */
export const BRIDGE = `hlsb-${ID}`;
/**
 * What dockerd 20.10 and its containerd write outside their roots whatever they are told (a trust key,
 * the plugin directory, the shims' socket directory): removed when they were not there before and no
 * other daemon runs.
 */
const DAEMON_LEFTOVERS = ['/etc/docker/key.json', '/run/docker', '/run/containerd'];

const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** Where a packaged program is: the distribution's directories only, so a newer docker in /usr/local is not picked. */
export function packaged(name: string): string | undefined {
  return SYSTEM_PATH.split(':').map((dir) => join(dir, name)).find((path) => existsSync(path));
}

/** Why the engine cannot run here, or undefined when it can. */
export function engineUnavailable(): string | undefined {
  if (process.geteuid?.() !== 0) return 'needs root to run dockerd';
  const missing = ['dockerd', 'docker', 'docker-compose', 'mmdebstrap', 'flock', 'setpriv', 'ip'].filter((p) => packaged(p) === undefined);
  if (missing.length > 0) return `needs ${missing.join(', ')} (.ci/run installs docker.io, docker-compose and mmdebstrap)`;
  return undefined;
}

function program(name: string): string {
  const path = packaged(name);
  if (path === undefined) throw new Error(`${name} is not installed`);
  return path;
}

const HOST_ENV = { PATH: SYSTEM_PATH, LANG: 'C.UTF-8' };

async function sh(file: string, args: readonly string[]): Promise<RunResult> {
  return run(program(file), args, { env: HOST_ENV, timeout: 60_000 });
}

/** Processes whose command line names this engine's run directory: dockerd, its containerd, shims. */
function engineProcesses(): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((p) => commandLine(p).includes(RUN_DIR));
}

/** Mount points under `dirs`, deepest first. */
function mountsUnder(...dirs: string[]): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((point) => dirs.some((dir) => point === dir || point.startsWith(`${dir}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** The first 10.213.N.0/24 that no address or route on the machine uses. */
async function freeSubnet(): Promise<string> {
  const used = (await sh('ip', ['-o', '-4', 'addr', 'show'])).stdout + (await sh('ip', ['-4', 'route', 'show'])).stdout;
  const start = Number.parseInt(ID.slice(0, 2), 16);
  for (let i = 0; i < 256; i++) {
    const n = (start + i) % 256;
    if (!used.includes(`10.213.${n}.`)) return `10.213.${n}`;
  }
  throw new Error('no free subnet in 10.213.0.0/16 for the test bridge');
}

/** Holds the engine's lock while the returned child lives; flock releases it when the child ends, however this process ends. */
async function lock(): Promise<ChildProcess> {
  mkdirSync(STATE, { recursive: true });
  const holder = spawn(program('flock'), ['--exclusive', LOCK, 'sh', '-c', 'echo locked && exec cat >/dev/null'], {
    env: HOST_ENV, stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => {
      resolve();
    });
    holder.once('exit', (code) => {
      reject(new Error(`flock ${LOCK} ended with ${code}`));
    });
  });
  return holder;
}

/**
 * Stops whatever this engine left running and unmounts what it left mounted: the daemon of a run that
 * was killed, its containerd and shims (each by its pid), the nsfs mount under the exec root, the bridge.
 */
async function tearDown(): Promise<string[]> {
  const problems: string[] = [];
  const pid = existsSync(PIDFILE) ? Number(readFileSync(PIDFILE, 'utf8').trim()) : undefined;
  if (pid !== undefined && alive(pid) && commandLine(pid).includes(RUN_DIR)) {
    process.kill(pid, 'SIGTERM');
    // dockerd gives running containers their stop timeout, then shuts containerd down.
    await waitFor('dockerd to exit', () => (alive(pid) ? undefined : true), 30_000, 100).catch(() => {
      problems.push(`dockerd ${pid} ignored SIGTERM for 30 s and was killed`);
      process.kill(pid, 'SIGKILL');
    });
  }
  for (const leftover of engineProcesses()) {
    problems.push(`${commandLine(leftover)} (pid ${leftover}) outlived dockerd and was killed`);
    process.kill(leftover, 'SIGKILL');
  }
  for (const point of mountsUnder(RUN_DIR, DATA_ROOT)) {
    if ((await sh('umount', [point])).code !== 0) await sh('umount', ['--lazy', point]);
  }
  if ((await sh('ip', ['link', 'show', BRIDGE])).code === 0) await sh('ip', ['link', 'delete', BRIDGE]);
  const stillMounted = mountsUnder(RUN_DIR);
  if (stillMounted.length > 0) problems.push(`still mounted: ${stillMounted.join(', ')}`);
  else rmSync(RUN_DIR, { recursive: true, force: true });
  return problems;
}

/** Whether another dockerd or containerd runs on the machine (then the files they share stay). */
function otherDaemons(): boolean {
  return readdirSync('/proc').some((p) => /^\d+$/.test(p) && /(^|\/)(dockerd|containerd) /.test(commandLine(Number(p))));
}

/** A running engine: the docker and docker-compose clients pointed at it. */
export class Engine {
  /** The clients' environment: only this engine's socket, a client config of its own. */
  readonly env: Readonly<Record<string, string>>;
  private readonly daemon: ChildProcess;
  private readonly holder: ChildProcess;
  private readonly created: readonly string[];

  constructor(daemon: ChildProcess, holder: ChildProcess, created: readonly string[]) {
    this.daemon = daemon;
    this.holder = holder;
    this.created = created;
    this.env = { PATH: SYSTEM_PATH, LANG: 'C.UTF-8', HOME: join(RUN_DIR, 'home'), DOCKER_HOST: `unix://${SOCKET}`, DOCKER_CONFIG: join(RUN_DIR, 'client') };
  }

  /** Runs the docker client; never throws for a failing command. */
  docker(args: readonly string[], options: Partial<RunOptions> = {}): Promise<RunResult> {
    return run(program('docker'), args, { timeout: 120_000, ...options, env: { ...this.env, ...options.env } });
  }

  /** Runs the docker client and returns its stdout, trimmed; throws when it fails. */
  async dockerOk(args: readonly string[], options: Partial<RunOptions> = {}): Promise<string> {
    return (await output(program('docker'), args, { timeout: 120_000, ...options, env: { ...this.env, ...options.env } })).trim();
  }

  /** Runs docker-compose (Debian's 1.29: no `docker compose` v2 here). */
  compose(args: readonly string[], options: Partial<RunOptions> = {}): Promise<RunResult> {
    return run(program('docker-compose'), args, { timeout: 300_000, cwd: ROOT, ...options, env: { ...this.env, ...options.env } });
  }

  /** The daemon's log so far, for failure messages. */
  log(): string {
    return existsSync(LOG) ? readFileSync(LOG, 'utf8') : '';
  }

  /** Removes every container, volume and network, stops dockerd by its pidfile and removes what it left. */
  async stop(): Promise<void> {
    const problems: string[] = [];
    try {
      if (this.daemon.exitCode === null && this.daemon.signalCode === null) await this.empty();
    } catch (error) {
      problems.push(String(error));
    }
    problems.push(...await tearDown());
    if (!otherDaemons()) {
      for (const path of this.created) rmSync(path, { recursive: true, force: true });
    }
    this.holder.stdin?.end();
    if (problems.length > 0) throw new Error(`the test engine did not stop cleanly:\n${problems.join('\n')}`);
  }

  /** Removes every container, volume and network the tests made. Images stay: untagged ones are the build cache. */
  async empty(): Promise<void> {
    const containers = (await this.dockerOk(['ps', '--all', '--quiet'])).split('\n').filter(Boolean);
    if (containers.length > 0) await this.dockerOk(['rm', '--force', '--volumes', ...containers]);
    const volumes = (await this.dockerOk(['volume', 'ls', '--quiet'])).split('\n').filter(Boolean);
    if (volumes.length > 0) await this.dockerOk(['volume', 'rm', '--force', ...volumes]);
    await this.dockerOk(['network', 'prune', '--force']);
  }
}

/**
 * Starts this checkout's engine, once any other test file's is stopped. dockerd gets SIGTERM if this
 * process dies (`setpriv --pdeathsig`); the next start removes whatever such an end left behind.
 */
export async function startEngine(): Promise<Engine> {
  const holder = await lock();
  try {
    await tearDown();
    const created = DAEMON_LEFTOVERS.filter((path) => !existsSync(path));
    for (const dir of [EXEC_ROOT, DATA_ROOT, join(RUN_DIR, 'home'), join(RUN_DIR, 'client')]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    // No /etc/docker/daemon.json of the machine: every setting is on the command line.
    writeFileSync(join(RUN_DIR, 'daemon.json'), '{}\n');
    const subnet = await freeSubnet();
    for (const args of [['link', 'add', BRIDGE, 'type', 'bridge'], ['addr', 'add', `${subnet}.1/24`, 'dev', BRIDGE], ['link', 'set', BRIDGE, 'up']]) {
      const r = await sh('ip', args);
      if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
    }
    const log = openSync(LOG, 'a');
    // No iptables rules and no forwarding: dockerd would rewrite the machine's chains, which another
    // daemon shares. The machine reaches containers on the bridge directly; builds use the host's network.
    const daemon = spawn(program('setpriv'), ['--pdeathsig', 'SIGTERM', '--', program('dockerd'),
      '--config-file', join(RUN_DIR, 'daemon.json'), '--data-root', DATA_ROOT, '--exec-root', EXEC_ROOT,
      '--pidfile', PIDFILE, '--host', `unix://${SOCKET}`, '--storage-driver', 'overlay2', '--bridge', BRIDGE,
      '--iptables=false', '--ip-forward=false', '--ip-masq=false', '--log-level', 'warn'], { env: HOST_ENV, stdio: ['ignore', log, log] });
    closeSync(log);
    const engine = new Engine(daemon, holder, created);
    try {
      await waitFor('dockerd to answer', async () => {
        if (daemon.exitCode !== null) throw new Error(`dockerd exited with ${daemon.exitCode}:\n${engine.log().slice(-3000)}`);
        return existsSync(SOCKET) && (await engine.docker(['version'], { timeout: 10_000 })).code === 0 ? true : undefined;
      }, 60_000, 200);
      // Whatever a killed run left in the data root goes; the images and the build cache stay.
      await engine.empty();
    } catch (error) {
      await engine.stop().catch(() => undefined);
      throw error;
    }
    return engine;
  } catch (error) {
    holder.stdin?.end();
    throw error;
  }
}
