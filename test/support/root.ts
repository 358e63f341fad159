// The checkout this suite belongs to: a module of its own, so that what needs only the path does not make the shipped copy (shipped.ts).

import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
