// Loads hls-bootstrap with Node's compile cache on, so that a start after the first compiles nothing.
// The cache lives beside the package, never in a shared /tmp that another user could seed; where the
// package directory is read-only (an image built without a warm cache) this quietly does nothing.
/* eslint-disable @typescript-eslint/no-require-imports */
const nodeModule = require('node:module') as typeof import('node:module');
const path = require('node:path') as typeof import('node:path');

// Its dependencies need Node 22.12 (commander) and more; say so plainly, never with a stack.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(`hls-bootstrap: needs Node.js 22.15 or later, and this is ${process.version}\n`);
  process.exitCode = 78;
} else {
  nodeModule.enableCompileCache(path.join(__dirname, '..', '.cache', 'compile'));
  require('./cli.cjs');
}
