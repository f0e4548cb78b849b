// node serve-catchup-writes.mjs MODE SIZE BUILD LABEL [VAR=VALUE...]: one `serve` of BUILD to caughtUp over a SIZE-trade
// three-source feed (bench/platform.js's), printing its CPU seconds per thread (main, the projections thread: the busiest
// other; the rest), peak RSS, the projections' document writes and flushes (with count-projection-writes.py applied to
// BUILD's dist) and a hash of read.db's tables. MODE: full (serve while `kepler ingest` runs: the caughtup section),
// cold (the feed ingested first, then serve from 0), proj (a copy of the events store a full run left, read.db absent:
// the projections alone from 0). The thirteenth session's holdset measurements; files under /tmp/holdset-data, ports 19100-19189.
import { cpSync, existsSync, mkdirSync, rmSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
const [mode, sizeArg, build, label, ...envs] = process.argv.slice(2);
const size = Number(sizeArg);
const env = { HOLDSET_COUNT: '1', ...Object.fromEntries(envs.map((e) => e.split('='))) };
const P = await import(join(build, 'dist/bench/platform.js'));
const Database = (await import(join(build, 'node_modules/better-sqlite3/lib/index.js'))).default;
const root = '/tmp/holdset-data';
const feedDir = join(root, `feed-${size}`);
let feed;
if (!existsSync(join(feedDir, 'meta.json'))) {
  mkdirSync(feedDir, { recursive: true });
  feed = await P.threeSourceFeed(feedDir, size);
  (await import('node:fs')).writeFileSync(join(feedDir, 'meta.json'), JSON.stringify(feed));
} else feed = JSON.parse((await import('node:fs')).readFileSync(join(feedDir, 'meta.json'), 'utf8'));
const dataDir = join(root, `run-${label}`);
rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
if (mode === 'proj') {
  for (const f of readdirSync(join(root, `store-${size}`))) if (f.startsWith('events.db')) cpSync(join(root, `store-${size}`, f), join(dataDir, f));
}
if (mode === 'cold') {
  const run = await P.runMeasured(['ingest', '--data-dir', dataDir, '--json', ...feed.paths]);
  if (run.code !== 0) throw new Error(run.stderr);
}
const serve = await P.ServeProcess.start(dataDir, ['--port', String(19100 + Math.floor(Math.random() * 90))], env);
let counts = '';
serve.child.stderr.on('data', (c) => { for (const line of c.toString().split('\n')) if (line.startsWith('HOLDSET ')) counts = line.slice(8); });
const started = process.hrtime.bigint();
if (mode === 'full') {
  const run = await P.runMeasured(['ingest', '--data-dir', dataDir, '--json', ...feed.paths]);
  if (run.code !== 0) throw new Error(run.stderr);
  await serve.caughtUp(feed.lines, 1_800_000);
} else {
  // cold: the processors' appends move the head; caught up once every follower is at it (and past the feed's lines).
  const head = (await serve.status()).head;
  await serve.caughtUp(Math.max(head, mode === 'cold' ? feed.lines : 0), 1_800_000);
}
const wall = Number(process.hrtime.bigint() - started) / 1e9;
const threads = [];
{ const fs = await import('node:fs'); const pid = serve.child.pid;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`).sort((a, b) => a - b)) { try { const st = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'); const f = st.slice(st.lastIndexOf(')') + 2).split(' '); threads.push((Number(f[11]) + Number(f[12])) / 100); } catch {} } }
const main = threads[0]; const rest = threads.slice(1); const proj = Math.max(...rest); const other = rest.reduce((a, b) => a + b, 0) - proj;
const cpu = { main, proj, other: +other.toFixed(2), total: +(main + proj + other).toFixed(2) };
await new Promise((r) => setTimeout(r, 1200));
const rss = Math.round(serve.rss.peakMb), anon = Math.round(serve.rss.peakAnonMb);
await serve.stop();
const db = new Database(join(dataDir, 'read.db'), { readonly: true });
const tables = db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all().map((r) => r.name);
const hashes = {};
const all = createHash('sha256');
for (const t of tables) {
  const cols = db.prepare(`PRAGMA table_info("${t}")`).all().map((c) => `"${c.name}"`);
  const h = createHash('sha256');
  for (const row of db.prepare(`SELECT ${cols.join(',')} FROM "${t}" ORDER BY ${cols.join(',')}`).raw().iterate()) h.update(JSON.stringify(row));
  hashes[t] = h.digest('hex').slice(0, 12);
  all.update(t + hashes[t]);
}
db.close();
const out = { label, mode, size, env: envs.join(' '), wall: +wall.toFixed(1), cpu, rssMb: rss, anonMb: anon, counts: JSON.parse(counts || '[]'), readdb: all.digest('hex').slice(0, 12), hashes };
console.log(JSON.stringify(out));
if (mode === 'full' && !existsSync(join(root, `store-${size}`))) { mkdirSync(join(root, `store-${size}`)); for (const f of readdirSync(dataDir)) if (f.startsWith('events.db')) cpSync(join(dataDir, f), join(root, `store-${size}`, f)); }
rmSync(dataDir, { recursive: true, force: true });
