// The trial start of `render-config --check`: the real supervisord on a harmless copy of the rendered config.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Stop } from '../stop.ts';
import { effectiveOption, findSections, joinLines, sectionName, setOption, splitLines, type Line } from './ini.ts';

/** The rendered file made harmless to start: its own socket, pidfile and logs in `dir`, and programs that exit at once. */
export function trialConfig(text: string, dir: string, trueCommand: string): string {
  let lines: Line[] = splitLines(text);
  // Where supervisord reads the option: the last of a section written twice.
  const set = (name: string, key: string, value: string): void => {
    const section = effectiveOption(lines, name, key)?.section;
    if (section !== undefined) lines = setOption(lines, section, key, `${key}=${value}`).lines;
  };
  // An inet_http_server would bind a port another instance may hold: drop the section, every time it is written.
  for (const inet of findSections(lines, 'inet_http_server').toReversed()) lines = [...lines.slice(0, inet.start), ...lines.slice(inet.end)];
  set('supervisord', 'nodaemon', 'true');
  set('supervisord', 'logfile', join(dir, 'supervisord.log'));
  set('supervisord', 'pidfile', join(dir, 'supervisord.pid'));
  set('supervisord', 'childlogdir', dir);
  set('supervisord', 'loglevel', 'info');
  set('unix_http_server', 'file', join(dir, 'supervisor.sock'));
  for (const name of new Set(lines.map(sectionName).filter((n): n is string => n?.startsWith('program:') === true))) {
    set(name, 'command', trueCommand);
    set(name, 'autorestart', 'false');
    set(name, 'startsecs', '0');
  }
  return joinLines(lines);
}

/**
 * supervisord's own reason from its output: the last line of a Python traceback (the exception),
 * else its "Error:" line, else its first line. Its error for a missing variable lists every
 * variable it could have expanded: only the point is kept.
 */
export function supervisordReason(output: string): string {
  const lines = output.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  const traceback = lines.findIndex((l) => l.startsWith('Traceback (most recent call last):'));
  const reason = traceback >= 0
    ? lines.slice(traceback + 1).findLast((l) => !/^\s/.test(l)) ?? lines[traceback]
    : lines.find((l) => l.startsWith('Error:')) ?? lines[0];
  return (reason ?? 'no output').replace(/ Available names:.*$/, '').slice(0, 500);
}

/**
 * Starts supervisord on `conf` and waits for "supervisord started", its exit, or a timeout. Once it
 * has started, every check is done: it is killed at once, since a graceful stop takes it about a
 * second for each program, and one that ignores SIGTERM would keep the check waiting forever.
 */
export async function tryStart(supervisord: string, conf: string, env: Readonly<Record<string, string>>, stop: Stop): Promise<string | undefined> {
  const child = spawn(supervisord, ['-n', '-c', conf], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let started = false;
  // A stop ends the trial supervisord too; the caller then reports the interruption.
  const unsubscribe = stop.onRequest(() => child.kill('SIGKILL'));
  return new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('supervisord did not report a start within 20 s');
    }, 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      // Once only: every program it spawns after this logs a further chunk.
      if (started || !/supervisord started with pid/.test(output)) return;
      started = true;
      clearTimeout(timer);
      child.once('exit', () => {
        resolve(undefined);
      });
      child.kill('SIGKILL');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve(`supervisord could not be started: ${error.message}`);
    });
    // Its output read to the end: the reason is its last line.
    child.once('close', (code) => {
      if (started) return;
      clearTimeout(timer);
      resolve(`supervisord refused the config (exit ${String(code)}): ${supervisordReason(output)}`);
    });
  }).finally(unsubscribe);
}
