// The entry point: the only module that touches process; everything else takes what it needs as parameters.

import module from 'node:module';
import { fileURLToPath } from 'node:url';

// Cache compiled code beside the package, never in a shared /tmp that another user could seed;
// where the package directory is read-only this quietly does nothing. It must come before the
// imports below, which are what it caches.
module.enableCompileCache(fileURLToPath(new URL('../.cache/compile', import.meta.url)));
const { randomBytes } = await import('node:crypto');
const { systemUserDb } = await import('./1-config/users.ts');
const { main } = await import('./main.ts');

try {
  process.exitCode = await main({
    argv: process.argv.slice(2),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    context: {
      users: systemUserDb(),
      euid: process.geteuid?.() ?? 0,
      egid: process.getegid?.() ?? 0,
      randomHex: (bytes) => randomBytes(bytes).toString('hex'),
    },
  });
} catch (error) {
  // Expected failures were turned into exit codes by main(); anything here is a bug.
  process.stderr.write(`hls-bootstrap: internal error, this is a bug:\n${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
}
