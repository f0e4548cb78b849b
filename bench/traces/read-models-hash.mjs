// node read-models-hash.mjs BUILD READDB: a sha256 per table of a SQLite read.db, rows in key order: read models compared between builds.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
const [build, path] = process.argv.slice(2);
const Database = createRequire(`${build}/package.json`)('better-sqlite3');
const db = new Database(path, { readonly: true });
const out = {};
for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all()) {
  const rows = db.prepare(`SELECT * FROM "${name}" ORDER BY 1, 2`).raw().all();
  out[name] = `${rows.length} ${createHash('sha256').update(JSON.stringify(rows)).digest('hex').slice(0, 12)}`;
}
console.log(JSON.stringify(out));
