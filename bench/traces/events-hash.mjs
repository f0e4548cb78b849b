// node events-hash.mjs BUILD EVENTSDB: sha256 of the events (every column but recorded_at) by position, and the checkpoints.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
const [build, path] = process.argv.slice(2);
const Database = createRequire(`${build}/package.json`)('better-sqlite3');
const db = new Database(path, { readonly: true });
const h = createHash('sha256');
let n = 0;
for (const row of db.prepare('SELECT position, stream, revision, id, type, data, metadata FROM events ORDER BY position').raw().iterate()) { h.update(JSON.stringify(row)); n++; }
const cps = db.prepare('SELECT * FROM checkpoints ORDER BY name').raw().all();
console.log(JSON.stringify({ events: n, hash: h.digest('hex').slice(0, 16), checkpoints: createHash('sha256').update(JSON.stringify(cps)).digest('hex').slice(0, 12) }));
