// Containers and volumes for one test, removed when it ends, and what a test asks of a running container.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { defer } from './defer.ts';
import type { Engine } from './engine.ts';
import { waitFor } from './processes.ts';
import type { RunResult } from './run.ts';

/** A name no other test uses. */
export function uniqueName(prefix: string): string {
  return `hlsb-${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A named volume, removed when the test ends. */
export async function volume(t: TestContext, engine: Engine, prefix = 'volume'): Promise<string> {
  const name = await engine.dockerOk(['volume', 'create', uniqueName(prefix)]);
  defer(t, () => engine.docker(['volume', 'rm', '--force', name]));
  return name;
}

/** Where a named volume's data lies on the machine (the test engine's data root). */
export async function volumePath(engine: Engine, name: string): Promise<string> {
  return engine.dockerOk(['volume', 'inspect', '--format', '{{.Mountpoint}}', name]);
}

/** What the stand-in proxy reports about itself (test/fixtures/m3u-proxy/main.py). */
export interface ProxyReport {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly gid: number;
  readonly groups: number[];
  readonly env: Record<string, string>;
}

/** A stream directory the stand-in proxy wrote, and its owner. */
export interface Segments {
  readonly dir: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: string;
}

export interface Stopped {
  readonly exitCode: number;
  /** How long `docker stop` took, in seconds. */
  readonly seconds: number;
}

/** A container started with `docker run --detach`. */
export class Container {
  readonly engine: Engine;
  readonly name: string;

  constructor(engine: Engine, name: string) {
    this.engine = engine;
    this.name = name;
  }

  /** `docker inspect --format`. */
  inspect(format: string): Promise<string> {
    return this.engine.dockerOk(['inspect', '--format', format, this.name]);
  }

  /** Everything it printed, stdout and stderr. */
  async logs(): Promise<string> {
    const r = await this.engine.docker(['logs', this.name]);
    return r.stdout + r.stderr;
  }

  running(): Promise<boolean> {
    return this.inspect('{{.State.Running}}').then((s) => s === 'true');
  }

  /** `docker exec` as the container's user, or `user`. */
  exec(argv: readonly string[], user?: string): Promise<RunResult> {
    return this.engine.docker(['exec', ...(user === undefined ? [] : ['--user', user]), this.name, ...argv]);
  }

  /** Waits until its output matches `pattern`; fails at once when it exits first. */
  async waitForLog(pattern: RegExp, timeout = 60_000): Promise<string> {
    return waitFor(`${pattern} in the output of ${this.name}`, async () => {
      const logs = await this.logs();
      if (pattern.test(logs)) return logs;
      if (!await this.running()) throw new Error(`${this.name} exited (${await this.inspect('{{.State.ExitCode}}')}) before printing ${pattern}:\n${logs}`);
      return undefined;
    }, timeout, 200);
  }

  /** Waits until Docker's HEALTHCHECK reports `status`; returns what the last check printed. */
  async waitForHealth(status: 'healthy' | 'unhealthy', timeout = 60_000): Promise<string> {
    const health = async (): Promise<{ Status: string; Log: { ExitCode: number; Output: string }[] }> =>
      JSON.parse(await this.inspect('{{json .State.Health}}')) as { Status: string; Log: { ExitCode: number; Output: string }[] };
    try {
      await waitFor(`${this.name} to be ${status}`, async () => ((await health()).Status === status ? true : undefined), timeout, 250);
    } catch (error) {
      throw new Error(`${String(error)}; health: ${JSON.stringify(await health())}\n${await this.logs()}`, { cause: error });
    }
    return (await health()).Log.at(-1)?.Output ?? '';
  }

  /** Asks the stand-in proxy from inside the container, as a probe would. */
  async ask(method: 'GET' | 'POST', path: string, user?: string): Promise<unknown> {
    const r = await this.exec(['python3', '/opt/m3u-proxy/ask.py', method, path], user);
    assert.equal(r.code, 0, `${method} ${path} from inside ${this.name}: ${r.stdout}${r.stderr}\n${await this.logs()}`);
    return JSON.parse(r.stdout) as unknown;
  }

  /** Waits until the stand-in proxy answers, which it does once supervisord started it. */
  async proxyReady(timeout = 60_000): Promise<ProxyReport> {
    await waitFor(`the proxy in ${this.name} to answer`, async () => {
      if ((await this.exec(['python3', '/opt/m3u-proxy/ask.py', 'GET', '/health'])).code === 0) return true;
      if (!await this.running()) throw new Error(`${this.name} exited (${await this.inspect('{{.State.ExitCode}}')}) before its proxy answered:\n${await this.logs()}`);
      return undefined;
    }, timeout, 250);
    return await this.ask('GET', '/report') as ProxyReport;
  }

  /** The proxy writes a stream directory with a segment into HLS_TEMP_DIR; fails when it cannot. */
  async writeSegments(): Promise<Segments> {
    return await this.ask('POST', '/segments') as Segments;
  }

  /** The command line of PID 1 and of its children, from /proc inside the container. */
  async processes(): Promise<{ pid: number; ppid: number; uid: number; cmdline: string }[]> {
    const script = 'for p in /proc/[0-9]*; do [ -r "$p/cmdline" ] || continue; '
      + 'printf "%s %s %s " "${p#/proc/}" "$(sed -n "s/^PPid:\\t//p" "$p/status")" "$(sed -n "s/^Uid:\\t\\([0-9]*\\).*/\\1/p" "$p/status")"; '
      + 'tr "\\0" " " < "$p/cmdline"; echo; done';
    const r = await this.exec(['sh', '-c', script], '0');
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => /^\d+ \d+ \d+ /.test(l)).map((line) => {
      const [pid = '', ppid = '', uid = '', ...rest] = line.split(' ');
      return { pid: Number(pid), ppid: Number(ppid), uid: Number(uid), cmdline: rest.join(' ').trim() };
    }).filter((p) => !p.cmdline.startsWith('sh -c for p in') && !p.cmdline.startsWith('tr ') && !p.cmdline.startsWith('sed '));
  }

  /** `stat` of a path inside the container: "uid:gid mode", mode in four octal digits. */
  async stat(path: string): Promise<string> {
    const r = await this.exec(['stat', '--format', '%u:%g %04a', path], '0');
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  }

  /** `docker stop` with the default 10 s grace; how long it took and the exit code it left. */
  async stop(grace = 10): Promise<Stopped> {
    const started = process.hrtime.bigint();
    await this.engine.dockerOk(['stop', '--time', String(grace), this.name], { timeout: (grace + 30) * 1000 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { exitCode: Number(await this.inspect('{{.State.ExitCode}}')), seconds };
  }
}

/** `docker run --detach` with `options`, then `image` and `command`; removed with its anonymous volumes when the test ends. */
export async function runContainer(t: TestContext, engine: Engine, options: readonly string[], image: string,
  command: readonly string[] = []): Promise<Container> {
  const name = uniqueName('container');
  defer(t, () => engine.docker(['rm', '--force', '--volumes', name]));
  await engine.dockerOk(['run', '--detach', '--name', name, ...options, image, ...command]);
  return new Container(engine, name);
}

/** `docker run --rm` to completion: exit code and output. */
export function runOnce(engine: Engine, options: readonly string[], image: string, command: readonly string[] = []): Promise<RunResult> {
  return engine.docker(['run', '--rm', ...options, image, ...command], { timeout: 300_000 });
}
