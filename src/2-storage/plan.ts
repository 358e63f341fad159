// Plans the storage step from an observation: what to create, re-own and re-mode. Pure.

import { formatMode } from '../1-config/parse.ts';
import type { Observation, Target } from './observe.ts';

export const GITIGNORE = '*\n!.gitignore\n';

export interface Owner {
  readonly uid: number;
  readonly gid: number;
  /** user:group as configured, for messages. */
  readonly label: string;
}

export interface StoragePlan {
  readonly target: Target;
  readonly path: string;
  readonly real: string;
  readonly create: readonly string[];
  /**
   * A world-writable sticky directory such as /tmp or /dev/shm: it keeps its owner and mode,
   * and only the proxy's stream directories inside it are re-owned.
   */
  readonly shared: boolean;
  readonly owner: Owner;
  readonly mode: number;
  /** The directory's owner changes (from `current`, when it exists). */
  readonly chown: boolean;
  readonly chmod: boolean;
  readonly writeGitignore: boolean;
  /** What the ownership walk covers; nothing in a directory about to be created. */
  readonly walk: 'tree' | 'stream-dirs' | 'none';
  readonly current: Observation['current'];
}

/** Whether `mode` is that of a shared scratch directory: sticky and writable by anyone. */
export function isShared(mode: number): boolean {
  return (mode & 0o1002) === 0o1002;
}

export function planStorage(observation: Observation, owner: Owner, mode: number): StoragePlan {
  const { current } = observation;
  const shared = current !== undefined && isShared(current.mode);
  const create = observation.missing;
  return {
    target: observation.target,
    path: observation.path,
    real: observation.real,
    create,
    shared,
    owner,
    mode,
    chown: !shared && (current === undefined || current.uid !== owner.uid || current.gid !== owner.gid),
    chmod: !shared && (current === undefined || current.mode !== mode),
    writeGitignore: !shared && !observation.hasGitignore,
    walk: create.length > 0 ? 'none' : shared ? 'stream-dirs' : 'tree',
    current,
  };
}

/** The plan as --dry-run prints it, one line each. */
export function describePlan(plan: StoragePlan): string[] {
  const lines: string[] = [];
  const where = plan.real === plan.path ? plan.path : `${plan.path} (really ${plan.real})`;
  if (plan.create.length > 0) lines.push(`would create ${plan.create.join(', ')}`);
  if (plan.shared) {
    lines.push(`${where} is a shared sticky directory (mode ${formatMode(plan.current?.mode ?? 0)}): it would keep its owner and mode`);
  }
  const was = plan.current === undefined ? '' : ` (now ${plan.current.uid}:${plan.current.gid})`;
  if (plan.chown) lines.push(`would give ${where} to ${plan.owner.label} (${plan.owner.uid}:${plan.owner.gid})${was}`);
  const wasMode = plan.current === undefined ? '' : ` (now ${formatMode(plan.current.mode)})`;
  if (plan.chmod) lines.push(`would set the mode of ${where} to ${formatMode(plan.mode)}${wasMode}`);
  if (plan.writeGitignore) lines.push(`would write ${plan.path}/.gitignore`);
  if (!plan.chown && !plan.chmod && !plan.shared) lines.push(`${where} already belongs to ${plan.owner.label} with mode ${formatMode(plan.mode)}`);
  return lines;
}
