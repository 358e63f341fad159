// Loads hls-bootstrap with Node's compile cache on, so that a start after the first compiles nothing.
// The cache lives beside the package, never in a shared /tmp that another user could seed; where the
// package directory is read-only (an image built without a warm cache) this quietly does nothing.
/* eslint-disable @typescript-eslint/no-require-imports */
const nodeModule = require('node:module') as typeof import('node:module');
const path = require('node:path') as typeof import('node:path');

// Node before 22.1 has no compile cache; it then runs without one.
(nodeModule.enableCompileCache as typeof nodeModule.enableCompileCache | undefined)?.(path.join(__dirname, '..', '.cache', 'compile'));
require('./cli.cjs');
