// `render-config --check`: the CI smoke test of a rendered config, read back as supervisord reads it, then loaded by supervisord.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { Stop } from '../stop.ts';
import { which } from '../which.ts';
import { findOption, findSection, joinLines, optionValue, sectionName, setOption, splitLines, type Line } from './ini.ts';
import { PROGRAM_SECTION, type Rendered } from './render.ts';
import { ShlexError, keyValuePairs } from './shlex.ts';
import { writeAtomic } from './write.ts';

export interface CheckReport {
  readonly passed: string[];
  readonly problems: string[];
}

/** supervisord's `%` expansion of one value, with ENV_ names from `env`. */
function expand(value: string, env: Readonly<Record<string, string>>): string {
  return value.replace(/%%|%\(ENV_([^)]*)\)s/g, (match, name: string | undefined) => (match === '%%' ? '%' : env[name ?? ''] ?? ''));
}

/** Reads the environment= line back both ways and compares it with what was meant. */
function readBack(rendered: Rendered, env: Readonly<Record<string, string>>): string[] {
  const lines = splitLines(rendered.text);
  const section = findSection(lines, PROGRAM_SECTION);
  const option = section === undefined ? undefined : findOption(lines, section, 'environment');
  if (section === undefined || option === undefined) return [`the rendered file has no environment= in [${PROGRAM_SECTION}]`];
  const expanded = expand(optionValue(lines, option), env);
  const problems: string[] = [];
  for (const [mode, posix] of [['supervisord 4.2 (non-POSIX shlex)', false], ['POSIX shlex', true]] as const) {
    let pairs: Map<string, string>;
    try {
      pairs = keyValuePairs(expanded, posix);
    } catch (error) {
      problems.push(`${mode} cannot read environment=: ${error instanceof ShlexError ? error.message : String(error)}`);
      continue;
    }
    for (const entry of rendered.entries) {
      if (pairs.get(entry.name) !== entry.value) problems.push(`${mode} reads ${entry.name} (from ${entry.variable}) differently from what was meant`);
    }
    if (pairs.size !== rendered.entries.length) problems.push(`${mode} reads ${pairs.size} variables, not ${rendered.entries.length}`);
  }
  return problems;
}

/** The rendered file made harmless to start: its own socket, pidfile and logs in `dir`, and programs that exit at once. */
export function trialConfig(text: string, dir: string, trueCommand: string): string {
  let lines: Line[] = splitLines(text);
  const set = (name: string, key: string, value: string): void => {
    const section = findSection(lines, name);
    if (section !== undefined) lines = setOption(lines, section, key, `${key}=${value}`).lines;
  };
  // An inet_http_server would bind a port another instance may hold: drop the section.
  const inet = findSection(lines, 'inet_http_server');
  if (inet !== undefined) lines = [...lines.slice(0, inet.start), ...lines.slice(inet.end)];
  set('supervisord', 'nodaemon', 'true');
  set('supervisord', 'logfile', join(dir, 'supervisord.log'));
  set('supervisord', 'pidfile', join(dir, 'supervisord.pid'));
  set('supervisord', 'childlogdir', dir);
  set('supervisord', 'loglevel', 'info');
  set('unix_http_server', 'file', join(dir, 'supervisor.sock'));
  for (const name of lines.map(sectionName).filter((n): n is string => n?.startsWith('program:') === true)) {
    set(name, 'command', trueCommand);
    set(name, 'autorestart', 'false');
    set(name, 'startsecs', '0');
  }
  return joinLines(lines);
}

/** Starts supervisord on `conf` and waits for "supervisord started", its exit, or a timeout; then stops it. */
async function tryStart(supervisord: string, conf: string, env: Readonly<Record<string, string>>, stop: Stop): Promise<string | undefined> {
  const child = spawn(supervisord, ['-n', '-c', conf], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  // A stop ends the trial supervisord too, at once: it takes over a second to act on SIGTERM.
  const unsubscribe = stop.onRequest(() => child.kill('SIGKILL'));
  return new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('supervisord did not report a start within 20 s');
    }, 20_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/supervisord started with pid/.test(output)) {
        clearTimeout(timer);
        child.kill('SIGTERM');
        child.once('close', () => {
          resolve(undefined);
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve(`supervisord could not be started: ${error.message}`);
    });
    child.once('exit', (code) => {
      if (/supervisord started with pid/.test(output)) return;
      clearTimeout(timer);
      // Its error names every variable it could have expanded; the first line is the point.
      const first = output.split('\n').find((l) => l.trim() !== '') ?? '';
      resolve(`supervisord refused the config (exit ${String(code)}): ${first.replace(/ Available names:.*$/, '').slice(0, 500)}`);
    });
  }).finally(unsubscribe);
}

/** Validates `rendered`: sections, the environment line read back, references, and a real supervisord start if there is one. */
export async function checkRendered(rendered: Rendered, env: Readonly<Record<string, string>>, cwd: string, stop: Stop): Promise<CheckReport> {
  const passed: string[] = [];
  const problems: string[] = [];
  const lines = splitLines(rendered.text);
  const missing = ['supervisord', PROGRAM_SECTION].filter((name) => findSection(lines, name) === undefined);
  const program = findSection(lines, PROGRAM_SECTION);
  if (program !== undefined && findOption(lines, program, 'command') === undefined) missing.push(`${PROGRAM_SECTION} command=`);
  if (missing.length > 0) problems.push(`the rendered file lacks ${missing.map((m) => `[${m}]`).join(', ')}`);
  else passed.push(`[supervisord] and [${PROGRAM_SECTION}] with command=`);

  const readBackProblems = readBack(rendered, env);
  problems.push(...readBackProblems);
  if (readBackProblems.length === 0) {
    passed.push(`environment= reads back exactly, ${rendered.entries.length} variables, in supervisord 4.2 (non-POSIX shlex) and POSIX shlex`);
  }
  passed.push(rendered.references.length === 0 ? 'no %(ENV_X)s references'
    : `every %(ENV_X)s reference is set: ${rendered.references.join(', ')}`);

  const supervisord = which('supervisord', env.PATH, cwd);
  if (!supervisord.found) {
    passed.push('supervisord is not on PATH, so it was not started');
    return { passed, problems };
  }
  const trueCommand = which('true', env.PATH, cwd);
  const dir = mkdtempSync(join(tmpdir(), 'hls-bootstrap-check-'));
  try {
    const conf = join(dir, 'supervisord.conf');
    writeAtomic(conf, trialConfig(rendered.text, dir, trueCommand.found ? trueCommand.path : '/bin/true'), 0o600, 'the trial config');
    const failure = await tryStart(supervisord.path, conf, env, stop);
    stop.check('render-config --check');
    if (failure === undefined) passed.push(`${supervisord.path} loaded it and started (throwaway socket and pidfile, programs replaced by true)`);
    else problems.push(failure);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { passed, problems };
}
