// Loads hls-bootstrap: stop signals are caught first, then Node's compile cache is turned on, then the CLI runs.
// The cache lives beside the package, never in a shared /tmp that another user could seed; where the
// package directory is read-only (an image built without a warm cache) this quietly does nothing.
/* eslint-disable @typescript-eslint/no-require-imports */

// As PID 1 a signal without a handler is dropped, and otherwise it kills at once, leaving helper
// processes behind: so every stop signal is caught from the first instruction, and handed on below.
const early: string[] = [];
const catchEarly = (signal: string): void => {
  early.push(signal);
};
for (const signal of ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM']) process.on(signal, catchEarly);
// SIGUSR1 would open Node's inspector: a debugger, as root, listening on 127.0.0.1:9229 until the
// exec, for anyone who can reach that port. A listener of its own keeps it shut; it stays until
// the exec resets it (a supervised child has SIGUSR1 forwarded, and this one only ignores it).
process.on('SIGUSR1', () => undefined);

const nodeModule = require('node:module') as typeof import('node:module');
const path = require('node:path') as typeof import('node:path');

// The bundle needs Node 22 (chalk, execa; commander asks for 22.12 only to be require()d as ESM,
// which the bundle never does). Without process.execve (before 22.15, and 23.0 to 23.10) `run`
// supervises its target instead. Older ones are told so plainly, never with a stack.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`hls-bootstrap: needs Node.js 22 or later, and this is ${process.version}\n`);
  process.exitCode = 78;
} else {
  // Node 22.0 has no compile cache (22.1 added it): it only starts slower.
  (nodeModule as Partial<typeof nodeModule>).enableCompileCache?.(path.join(__dirname, '..', '.cache', 'compile'));
  const cli = require('./cli.cjs') as typeof import('./cli.ts');
  // Off only once the CLI listens too: removing a signal's last listener restores its default action.
  cli.start(early);
  for (const signal of ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM']) process.off(signal, catchEarly);
}
