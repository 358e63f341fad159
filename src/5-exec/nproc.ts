// RLIMIT_NPROC and a user switch: from the setuid on, every thread of this process counts as one of the target user's processes.
//
// setuid() does not fail over the limit; set_user() flags the process (PF_NPROC_EXCEEDED), and
// execve then fails with EAGAIN while the user is still over it. glibc switches the other threads
// first, so Node's own threads (V8's and libuv's) count against the limit, where a one-threaded
// su-exec would count once.

import type { ExecUser } from '../1-config/parse.ts';
import { softLimit } from './limits.ts';

/** PF_NPROC_EXCEEDED of include/linux/sched.h, in the flags field of /proc/self/stat. */
const PF_NPROC_EXCEEDED = 0x1000;

/** The soft limit of "Max processes" in /proc/self/limits; Infinity when unlimited or unknown. */
export function parseProcessLimit(limits: string | undefined): number {
  return softLimit(limits, 'Max processes') ?? Infinity;
}

/** "Threads:" of /proc/self/status: this process's threads, each a process to RLIMIT_NPROC. */
export function parseThreads(status: string | undefined): number {
  return Number(/^Threads:\s*(\d+)/m.exec(status ?? '')?.[1] ?? 1);
}

/** Whether /proc/self/stat says set_user() found the user over RLIMIT_NPROC. */
export function nprocExceeded(stat: string | undefined): boolean {
  // The name in parentheses may hold spaces and parentheses; the flags are the 7th field after it.
  const fields = (stat ?? '').slice((stat ?? '').lastIndexOf(')') + 2).split(' ');
  return (Number(fields[6] ?? 0) & PF_NPROC_EXCEEDED) !== 0;
}

/**
 * Why the switch to `user` would leave execve failing with EAGAIN, as far as it is certain before
 * it: when the threads switched before the calling one already exceed the limit. The user's
 * other processes are not all visible from here; the last look after the switch reads the kernel's verdict.
 */
export function nprocProblem(user: ExecUser, currentUid: number, read: (name: string) => string | undefined): string | undefined {
  // Root of the first user namespace is never flagged, and staying the same user changes no count.
  if (user.uid === 0 || user.uid === currentUid) return undefined;
  const limit = parseProcessLimit(read('limits'));
  const threads = parseThreads(read('status'));
  if (threads - 1 <= limit) return undefined;
  return `uid ${user.uid} may have at most ${limit} processes (RLIMIT_NPROC, ulimit -u), and from the switch on this process's own ${threads} threads count as its processes, so execve would fail (EAGAIN)`;
}

/** After the switch: why execve would fail with EAGAIN, from the kernel's own flag. */
export function nprocExceededProblem(uid: number, read: (name: string) => string | undefined): string | undefined {
  if (!nprocExceeded(read('stat'))) return undefined;
  return `uid ${uid} is over its limit of ${parseProcessLimit(read('limits'))} processes (RLIMIT_NPROC, ulimit -u), counting this process's ${parseThreads(read('status'))} threads and the processes it already runs, so execve would fail (EAGAIN)`;
}
