// The supervisord step: render the config from the template and write it, or print the plan; and render-config.

import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { firstNotUtf8Line, type Config } from '../1-config/resolve.ts';
import { formatMode } from '../1-config/parse.ts';
import { BootstrapError, EXIT, reason } from '../errors.ts';
import type { Output } from '../output.ts';
import { PROGRAM_SECTION, render, type Rendered } from './render.ts';
import { writeAtomic } from './write.ts';

export interface RenderOptions {
  readonly template?: string;
  /** A path, or "-" for stdout. */
  readonly output?: string;
  readonly dryRun: boolean;
  readonly cwd: string;
  /** The uid supervisord will run as: not root, a user= naming it is left out. */
  readonly euid?: number;
}

/** Where the rendered config goes, and its template. */
export interface Paths {
  readonly template: string;
  readonly output: string;
}

export function paths(config: Config, options: RenderOptions): Paths {
  const output = options.output ?? config.values.SUPERVISORD_CONF;
  return {
    template: resolve(options.cwd, options.template ?? config.values.SUPERVISORD_TEMPLATE),
    output: output === '-' ? '-' : resolve(options.cwd, output),
  };
}

/** Reads the template and renders it; 78 when it cannot be read or rendered. */
export function renderFrom(config: Config, where: Paths, euid?: number): Rendered {
  let bytes: Buffer;
  try {
    bytes = readFileSync(where.template);
  } catch (error) {
    throw new BootstrapError(EXIT.CONFIG, `cannot read the supervisord template ${where.template} (SUPERVISORD_TEMPLATE): ${reason(error)}`, { cause: error });
  }
  // Decoded as it is, a byte that is not UTF-8 would be written back as U+FFFD: another byte.
  // supervisord's Python reads the file as UTF-8 too (in a UTF-8 or C locale), and would stop on it.
  if (!isUtf8(bytes)) {
    throw new BootstrapError(EXIT.CONFIG, `the supervisord template ${where.template} (SUPERVISORD_TEMPLATE) is not UTF-8 `
      + `(line ${firstNotUtf8Line(bytes)}), and supervisord reads its config as UTF-8; save it as UTF-8`);
  }
  return render(bytes.toString('utf8'), config, euid);
}

/** The config to write: where, from where, and the rendered text. */
export interface SupervisordPlan {
  readonly where: Paths;
  readonly rendered: Rendered;
  readonly mode: number;
}

/** Reads the template and renders it, writing nothing: a value or reference it refuses stops the start before any step. */
export function planSupervisord(config: Config, options: RenderOptions): SupervisordPlan {
  const where = paths(config, options);
  const rendered = renderFrom(config, where, options.euid);
  return { where, rendered, mode: rendered.secret ? 0o600 : 0o644 };
}

/** "edited: 15 variables set (1 of them added), 2 of the template's kept as written" */
function describeEdit(rendered: Rendered): string {
  if (rendered.added) return `added: ${rendered.entries.length} variables set`;
  const appended = rendered.appended.length === 0 ? '' : ` (${rendered.appended.length} of them added)`;
  const kept = rendered.kept.length === 0 ? '' : `, ${rendered.kept.length} of the template's kept as written (${rendered.kept.join(', ')})`;
  return `edited: ${rendered.entries.length} variables set${appended}${kept}`;
}

/** Writes the planned config (or prints the plan with --dry-run, or the file for `-o -`). */
export function applySupervisord(plan: SupervisordPlan, out: Output, dryRun: boolean): void {
  const { where, rendered, mode } = plan;
  out.record('supervisord', {
    ...where, mode: formatMode(mode), added: rendered.added, environment: rendered.shown, set: rendered.entries.map((e) => e.name),
    appended: rendered.appended, kept: rendered.kept, references: rendered.references, written: !dryRun,
  });
  const what = `environment= of [${PROGRAM_SECTION}] ${describeEdit(rendered)}`;
  if (where.output === '-') {
    if (!dryRun) out.result(rendered.text);
    return;
  }
  if (dryRun) {
    out.info(`   [dry run] would write ${where.output} (mode ${formatMode(mode)}) from ${where.template}: ${what}`);
    out.info(`   [dry run] ${rendered.shown}`);
    return;
  }
  writeAtomic(where.output, rendered.text, mode, 'the supervisord config (SUPERVISORD_CONF)');
  out.info(`📝 supervisord config written: ${where.output} (mode ${formatMode(mode)}), from ${where.template}: ${what}`);
  if (rendered.ownUser.length > 0) out.info(`   Left out, since supervisord runs as that uid anyway: ${rendered.ownUser.join(', ')}`);
}
