// Runs the real supervisord on a config for a test, until its program has reported, then stops it.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE, SHIPPED } from './cli.ts';

/** The stand-in proxy, where every user can run it. */
export const STAND_IN = SHIPPED.standIn;

/** What the stand-in proxy reports about the process supervisord started. */
export interface StandInReport {
  readonly pid: number;
  readonly ppid: number;
  readonly home: string | undefined;
  readonly uid: number;
  readonly gid: number;
  readonly groups: number[];
  readonly env: Record<string, string>;
}

/** A minimal supervisord config in `dir` whose one program is the stand-in, writing to `dir`/report.json. */
export function standInConfig(dir: string, environmentLine: string): string {
  return [
    '[supervisord]', 'nodaemon=true', `logfile=${join(dir, 'supervisord.log')}`, `pidfile=${join(dir, 'supervisord.pid')}`, '',
    '[unix_http_server]', `file=${join(dir, 'supervisor.sock')}`, '',
    '[program:m3u-proxy]', `command=${NODE} ${STAND_IN} --out ${join(dir, 'report.json')}`,
    'autorestart=false', 'startsecs=0', environmentLine, '',
  ].join('\n');
}

/** Starts supervisord on `conf` with `env`, waits until `report` exists (or it exits, or 30 s pass), then stops it. */
export async function runSupervisord(conf: string, env: Record<string, string>, report: string): Promise<{ report: StandInReport | undefined; output: string; code: number | null }> {
  const child = spawn('supervisord', ['-n', '-c', conf], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => {
    resolve(code);
  }));
  const deadline = Date.now() + 30_000;
  const state = { running: true };
  void exited.then(() => {
    state.running = false;
  });
  while (state.running && !existsSync(report) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // The stand-in writes its report in one call; give the write a moment to finish.
  await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  const code = await exited;
  return { report: existsSync(report) ? JSON.parse(readFileSync(report, 'utf8')) as StandInReport : undefined, output, code };
}

export function writeText(path: string, text: string): string {
  writeFileSync(path, text);
  return path;
}
