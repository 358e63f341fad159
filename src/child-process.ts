// node:child_process, loaded on first use. The build points every import of it here: commander
// imports it at start-up for executable subcommands, which hls-bootstrap has none of, and with it
// come net, dgram and the stream modules, about 5 ms of every start for nothing.

import { createRequire } from 'node:module';

type ChildProcess = typeof import('node:child_process');

let real: ChildProcess | undefined;
function load(): ChildProcess {
  // Named through a variable, so that the bundler leaves this require to run time.
  const name = 'node:child_process';
  real ??= createRequire(import.meta.url)(name) as ChildProcess;
  return real;
}

export const spawn: ChildProcess['spawn'] = ((...args: Parameters<ChildProcess['spawn']>) => load().spawn(...args)) as ChildProcess['spawn'];

/** For `import childProcess from 'node:child_process'`: every property read loads the module. */
export default new Proxy({} as ChildProcess, { get: (_target, key) => load()[key as keyof ChildProcess] });
