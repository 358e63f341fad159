// A helper process of a parallel walk: reads its share of the jobs on stdin, walks them, reports on stdout.

import { readFileSync } from 'node:fs';
import { NotPermitted, OwnershipTask, type OwnershipOptions } from './ownership.ts';
import { SweepTask, type SweepOptions } from './sweep.ts';
import { now, type Counts, type HelperFailure, type HelperInput, type HelperResult, type Task, type TaskSpec } from './jobs.ts';
import { TreeChanged, enter } from './tree.ts';

/** Rebuilds the task the parent process described. */
function createTask(spec: TaskSpec): Task<Counts> {
  if (spec.kind === 'own') return new OwnershipTask(spec.options as OwnershipOptions);
  if (spec.kind === 'sweep') return new SweepTask(spec.options as SweepOptions);
  throw new Error(`unknown task kind ${spec.kind}`);
}

function failure(error: unknown): HelperFailure {
  if (error instanceof TreeChanged) return 'tree-changed';
  if (error instanceof NotPermitted) return 'not-permitted';
  return 'failed';
}

const input = JSON.parse(readFileSync(0, 'utf8')) as HelperInput;
const root = { dev: BigInt(input.rootId.dev), ino: BigInt(input.rootId.ino) };
let result: HelperResult;
let task: Task<Counts> | undefined;
try {
  enter(input.root, root);
  task = createTask(input.task);
  let reported = now();
  for (const job of input.jobs) {
    task.runJob(job, root);
    if (now() - reported > 200) {
      process.stdout.write(`progress ${task.counts.checked}\n`);
      reported = now();
    }
  }
  result = { ok: true, counts: task.counts };
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  result = task === undefined
    ? { ok: false, error: message, failure: failure(error) }
    : { ok: false, error: message, failure: failure(error), counts: task.counts };
}
process.stdout.write(`result ${JSON.stringify(result)}\n`);
