// m3u-editor's image as it is today, on this machine: its supervisord config, its start script after adoption, a stand-in proxy.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './root.ts';
import type { StandInReport } from './supervisord.ts';

export const FIXTURES = join(ROOT, 'test', 'fixtures', 'upstream');
/** A config with every feature of upstream's supervisord.conf, the proxy's fifteen-key environment= line included. */
export const UPSTREAM_TEMPLATE = join(FIXTURES, 'supervisord.conf');
/** start-container after the adoption guide's change: its exports, then `exec hls-bootstrap run "$@"`. */
export const START_CONTAINER = join(FIXTURES, 'start-container');
/** The stand-in proxy that reads every name m3u-proxy reads, as m3u-proxy reads it. */
export const PROXY = join(FIXTURES, 'm3u-proxy.mjs');

/** One setting as the proxy would run with it. */
export interface Setting {
  readonly value: string | number | boolean | null;
  readonly from: 'environment' | 'default';
}

export interface ProxyReport extends StandInReport {
  readonly settings: Record<string, Setting>;
  readonly problems: string[];
}

/** Programs of the config this machine lacks, which supervisord would keep retrying, and then wait for at its stop. */
const ABSENT = ['/usr/sbin/crond -f -d 8', 'redis-server /etc/redis/redis.conf', '/usr/bin/php /var/www/html/artisan network:broadcast --interval=10'];

/** What start-container exports for the programs that run PHP, as commands this machine has. */
export const PHP_COMMANDS = { SUPERVISOR_PHP_COMMAND: '/bin/sleep 600', WEBSOCKET_PHP_COMMAND: '/bin/sleep 600', QUEUE_PHP_COMMAND: '/bin/sleep 600' };

/**
 * The upstream config with only what cannot run here changed: supervisord's socket, log and pidfile
 * moved into `dir` (another supervisord may hold the real ones), the programs' /dev/stdout too (a
 * test's pipe is a socket, which supervisord cannot open), programs this machine lacks replaced by a
 * sleep, and the proxy replaced by the stand-in, writing `dir`/report.json. `edit` changes the text
 * further before it is written.
 */
export function upstreamTemplate(dir: string, edit: (text: string) => string = (t) => t): string {
  let text = readFileSync(UPSTREAM_TEMPLATE, 'utf8');
  for (const command of ABSENT) text = text.replace(`command=${command}\n`, 'command=/bin/sleep 600\n');
  text = text
    .replace('command=/usr/bin/python3 /opt/m3u-proxy/main.py', `command=${process.execPath} ${PROXY} --out ${join(dir, 'report.json')}`)
    .replaceAll('/run/supervisord.sock', join(dir, 'supervisord.sock'))
    .replace('/var/log/supervisor/supervisord.log', join(dir, 'supervisord.log'))
    .replace('/var/run/supervisord.pid', join(dir, 'supervisord.pid'))
    .replaceAll('/dev/stdout', join(dir, 'programs.log'))
    .replaceAll('/dev/stderr', join(dir, 'programs.log'));
  if (ABSENT.some((command) => text.includes(command))) throw new Error('the fixture\'s commands changed: update ABSENT');
  const path = join(dir, 'supervisord.tmpl');
  writeFileSync(path, edit(text));
  return path;
}

/** What the container set in motion: its output so far, and how to stop it. */
export interface Running {
  readonly output: () => string;
  /** SIGTERM, then its exit status once it is gone. */
  readonly stop: () => Promise<number | null>;
}

/** Starts `argv` and waits until its output matches `until` (or it exits, or 30 s pass); throws with the output if it never did. */
export async function startUntil(argv: readonly string[], env: Record<string, string>, until: RegExp): Promise<Running> {
  const [file = '', ...args] = argv;
  const child = spawn(file, args, { env, cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => {
    resolve(code);
  }));
  const running: Running = {
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      return closed;
    },
  };
  const deadline = Date.now() + 30_000;
  while (!until.test(output) && child.exitCode === null && child.signalCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!until.test(output)) {
    await running.stop();
    throw new Error(`${argv.join(' ')} never printed ${String(until)}:\n${output}`);
  }
  return running;
}

/** The stand-in proxy's report, once it wrote one. */
export function proxyReport(dir: string): ProxyReport | undefined {
  const path = join(dir, 'report.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as ProxyReport : undefined;
}
