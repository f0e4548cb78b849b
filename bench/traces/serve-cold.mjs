// node serve-cold.mjs BUILD STORE LABEL [HEAD]: serve of BUILD from 0 on a copy of STORE (a feed ingested, no serve yet) to caughtUp:
// CPU seconds per thread, peak RSS, and hashes of the events table and read.db. HEAD: the store's head once caught up. Port 19200-19289.
import { cpSync, rmSync, readdirSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const here = dirname(fileURLToPath(import.meta.url));
import { execFileSync } from 'node:child_process';
const [build, store, label] = process.argv.slice(2);
const P = await import(join(build, 'dist/bench/platform.js'));
const dataDir = `/tmp/serve-cold-${label}`;
rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });
for (const f of readdirSync(store)) if (f.startsWith('events.db')) cpSync(join(store, f), join(dataDir, f));
const t0 = performance.now();
const serve = await P.ServeProcess.start(dataDir, ['--port', String(19200 + Math.floor(Math.random() * 90))]);
let cpu, rss;
try {
  await serve.caughtUp(Number(process.argv[5] ?? 1));
  cpu = serve.threadCpu();
  rss = Math.round(serve.rss.peakMb);
} finally {
  await serve.stop();
}
const wall = (performance.now() - t0) / 1000;
const ev = JSON.parse(execFileSync(process.execPath, [join(here, 'events-hash.mjs'), build, join(dataDir, 'events.db')], { encoding: 'utf8' }));
const rd = JSON.parse(execFileSync(process.execPath, [join(build, 'bench/traces/read-models-hash.mjs'), build, join(dataDir, 'read.db')], { encoding: 'utf8' }));
const rdHash = createHash('sha256').update(JSON.stringify(rd)).digest('hex').slice(0, 12);
console.log(JSON.stringify({ label, wall: +wall.toFixed(2), cpu: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, +v.toFixed(2)])), rss, events: ev, readDb: rdHash }));
rmSync(dataDir, { recursive: true, force: true });
