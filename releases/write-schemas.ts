// `npm run schemas`: rewrites releases/schemas/ from the TypeBox declarations
// (runs compiled, from dist/releases/).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonSchemaFiles } from './json-schemas.js';

const dir = fileURLToPath(new URL('../../releases/schemas/', import.meta.url));
mkdirSync(dir, { recursive: true });
const files = jsonSchemaFiles();
for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
process.stdout.write(`wrote ${Object.keys(files).length} schemas to ${dir}\n`);
