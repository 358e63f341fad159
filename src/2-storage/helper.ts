// A helper process of a parallel walk: reads its share of the jobs on stdin, walks them, reports on stdout.
//
// It finds HLS_TEMP_DIR as an inherited handle, never by name. It stops at its next pause when
// asked (a stop signal), and by itself when the process that started it is gone: Node has no
// PR_SET_PDEATHSIG, so it looks at its parent's pid at every pause.

import { readFileSync, writeSync } from 'node:fs';
import { enterHandle } from './handles.ts';
import { fromWire, HELPER_HOME_FD, type Counts, type HelperFailure, type HelperInput, type HelperResult, type Task, type TaskSpec } from './jobs.ts';
import { NotPermitted, OwnershipTask, type OwnershipOptions } from './ownership.ts';
import { showReason } from './names.ts';
import { now, Pace, Stopped } from './pace.ts';
import { SweepTask, type SweepOptions } from './sweep-task.ts';
import { placeAt } from './tree.ts';

/** Rebuilds the task the parent process described. */
function createTask(spec: TaskSpec): Task<Counts> {
  if (spec.kind === 'own') return new OwnershipTask(spec.options as OwnershipOptions);
  if (spec.kind === 'sweep') return new SweepTask(spec.options as SweepOptions);
  throw new Error(`unknown task kind ${spec.kind}`);
}

function failure(error: unknown): HelperFailure {
  if (error instanceof Stopped) return 'stopped';
  if (error instanceof NotPermitted) return 'not-permitted';
  return 'failed';
}

/** One line to the parent; synchronous, so that a parent gone (EPIPE) ends this process here. */
function say(line: string): void {
  writeSync(1, `${line}\n`);
}

async function main(): Promise<HelperResult> {
  const input = JSON.parse(readFileSync(0, 'utf8')) as HelperInput;
  let asked = false;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const) {
    process.on(signal, () => {
      asked = true;
    });
  }
  const pace = new Pace(() => {
    if (asked) throw new Stopped('asked to stop');
    if (process.ppid !== input.parent) throw new Stopped('the process that started it is gone');
  });
  let task: Task<Counts> | undefined;
  try {
    enterHandle(HELPER_HOME_FD);
    const at = placeAt(HELPER_HOME_FD, pace);
    task = createTask(input.task);
    let reported = now();
    for (const wire of input.jobs) {
      await task.runJob(fromWire(wire), at);
      if (now() - reported > 200) {
        say(`progress ${task.counts.checked}`);
        reported = now();
      }
      await pace.tick();
    }
    return { ok: true, counts: task.counts };
  } catch (error) {
    // Without the path a system error names: the parent logs this line, and a name may hold anything.
    const message = showReason(error);
    return task === undefined
      ? { ok: false, error: message, failure: failure(error) }
      : { ok: false, error: message, failure: failure(error), counts: task.counts };
  }
}

void main().then((result) => {
  say(`result ${JSON.stringify(result)}`);
});
