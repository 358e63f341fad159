// The sweep of one stale stream directory: judge its age by its newest entry, then remove it, or leave it as it was.

import { Interrupted } from '../stop.ts';
import { name, type Counts, type Job, type Place, type Task } from './jobs.ts';
import { plural, showName, showReason } from './names.ts';
import { Stopped } from './pace.ts';
import { emptySweepCounts, futureNote, type SweepCounts, type SweepOptions } from './sweep-counts.ts';
import { Keep, Remove, Scan } from './sweep-passes.ts';
import { Walk } from './tree.ts';

/** Whether `error` is a stop request, which must end the sweep rather than count as one directory's failure. */
function isStop(error: unknown): boolean {
  return error instanceof Stopped || error instanceof Interrupted;
}

/** The sweep of one stream directory at a time, here or in a helper process. */
export class SweepTask implements Task<SweepCounts & Counts> {
  readonly counts = emptySweepCounts() as SweepCounts & Counts;
  private readonly options: SweepOptions;

  constructor(options: SweepOptions) {
    this.options = options;
  }

  async runJob(j: Job, at: Place): Promise<void> {
    const c = this.counts;
    const shown = showName(j.name);
    const scan = new Scan(this.options, j.stat);
    try {
      await new Walk(at).run(j.name, j.stat, scan);
    } catch (error) {
      c.checked += scan.entries;
      if (isStop(error)) throw error;
      if (!(error instanceof Keep)) {
        c.other++;
        c.failures.push(`${shown}: ${showReason(error)}`);
      } else if (error.why === 'young') c.young++;
      else if (error.why === 'future') {
        c.future++;
        name(c.futureNames, futureNote(shown, error.mtimeMs, this.options.now));
      } else {
        c.other++;
        c.failures.push(`${shown}: another filesystem is mounted inside; kept`);
      }
      return;
    }
    c.checked += scan.entries;
    if (this.options.apply) {
      const remove = new Remove(this.options.dev);
      try {
        await new Walk(at).run(j.name, j.stat, remove);
      } catch (error) {
        if (isStop(error)) throw error;
        remove.failure ??= showReason(error);
      }
      if (remove.failure !== undefined) {
        c.other++;
        c.failures.push(`${shown}: ${remove.failure}; what is left stays, with its times as they were`);
        return;
      }
    }
    c.removed++;
    c.bytes += scan.bytes;
    c.removedNames.push(`${shown} (${plural(scan.entries, 'entry', 'entries')}, ${plural(scan.bytes, 'byte')})`);
  }
}

export type { SweepOptions } from './sweep-counts.ts';
