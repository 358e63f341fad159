// `render-config --check`: the CI smoke test of a rendered config, read back as supervisord reads it, then loaded by supervisord.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stop } from '../stop.ts';
import { which } from '../which.ts';
import { envNames, expand } from './expand.ts';
import { effectiveOption, findSection, optionValue, splitLines } from './ini.ts';
import { PROGRAM_SECTION, type Rendered } from './render.ts';
import { ShlexError, keyValuePairs } from './shlex.ts';
import { trialConfig, tryStart } from './trial.ts';
import { writeAtomic } from './write.ts';

const NON_POSIX = 'supervisord 4.2 (non-POSIX shlex)';
const POSIX = 'POSIX shlex';

export interface CheckReport {
  readonly passed: string[];
  readonly problems: string[];
}

/** Reads the environment= line back both ways: every value set reads as meant, and every key kept reads the same in both. */
function readBack(rendered: Rendered, env: Readonly<Record<string, string>>): string[] {
  const lines = splitLines(rendered.text);
  const option = effectiveOption(lines, PROGRAM_SECTION, 'environment')?.option;
  if (option === undefined) return [`the rendered file has no environment= in [${PROGRAM_SECTION}]`];
  const expanded = expand(optionValue(lines, option), envNames(env)).text;
  const problems: string[] = [];
  const expected = new Set([...rendered.entries.map((e) => e.name), ...rendered.kept]).size;
  const readings: Map<string, string>[] = [];
  for (const [mode, posix] of [[NON_POSIX, false], [POSIX, true]] as const) {
    let pairs: Map<string, string>;
    try {
      pairs = keyValuePairs(expanded, posix);
    } catch (error) {
      problems.push(`${mode} cannot read environment=: ${error instanceof ShlexError ? error.message : String(error)}`);
      continue;
    }
    readings.push(pairs);
    for (const entry of rendered.entries) {
      if (pairs.get(entry.name) !== entry.value) problems.push(`${mode} reads ${entry.name} (from ${entry.variable}) differently from what was meant`);
    }
    if (pairs.size !== expected) problems.push(`${mode} reads ${pairs.size} variables, not ${expected}`);
  }
  const [first, second] = readings;
  for (const key of first === undefined || second === undefined ? [] : rendered.kept) {
    if (first?.get(key) !== second?.get(key)) problems.push(`${key}, kept from the template, reads differently in ${NON_POSIX} and ${POSIX}`);
  }
  return problems;
}

/** Validates `rendered`: sections, the environment line read back, references, and a real supervisord start if there is one. */
export async function checkRendered(rendered: Rendered, env: Readonly<Record<string, string>>, cwd: string, stop: Stop): Promise<CheckReport> {
  const passed: string[] = [];
  const problems: string[] = [];
  const lines = splitLines(rendered.text);
  const missing = ['supervisord', PROGRAM_SECTION].filter((name) => findSection(lines, name) === undefined);
  const program = effectiveOption(lines, PROGRAM_SECTION, 'command');
  if (program !== undefined && program.option === undefined) missing.push(`${PROGRAM_SECTION} command=`);
  if (missing.length > 0) problems.push(`the rendered file lacks ${missing.map((m) => `[${m}]`).join(', ')}`);
  else passed.push(`[supervisord] and [${PROGRAM_SECTION}] with command=`);

  const readBackProblems = readBack(rendered, env);
  problems.push(...readBackProblems);
  if (readBackProblems.length === 0) {
    const kept = rendered.kept.length === 0 ? '' : `, and the template's ${rendered.kept.join(', ')} alike`;
    passed.push(`environment= reads back exactly in ${NON_POSIX} and ${POSIX}: the ${rendered.entries.length} variables set${kept}`);
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
