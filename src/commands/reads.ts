// Which variables each command reads, as tags of the table: its --help lists them, and the tests hold it to that.

import { allSteps } from '../1-config/docs.ts';
import type { Step } from '../1-config/variables.ts';

/** The table's tags each command reads; a row tagged with one of them is listed in that command's --help. */
export const READS = {
  run: ['storage', 'disk', 'supervisord', 'exec'],
  prepare: ['storage', 'disk', 'supervisord'],
  'check-disk': ['check-disk'],
  'render-config': ['supervisord'],
  sweep: ['sweep'],
  env: allSteps(),
} as const satisfies Record<string, readonly Step[]>;

/** A command that reads variables. */
export type Reader = keyof typeof READS;
