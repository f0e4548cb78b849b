// Drives CommandService + the processors (one store connection) + the projections (their own
// connections, as `serve`'s projections thread has them) on a fresh SQLite store, in one thread:
// everything POST /trades does but HTTP. Usage: node command-cost.mjs DIST DIR COMMANDS [CONCURRENCY] [roles]
// roles: a comma list of processors,projections, or none (default both).
// Under callgrind (BENCHMARKS.md, eighth session): WARM=12000 CG_INSTR=1 valgrind --tool=callgrind
// --instr-atstart=no node --single-threaded ... : WARM commands run uninstrumented, then
// instrumentation goes on (callgrind_control -i on) for COMMANDS commands and the catch-up after them.
import { execSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, dir, count, concurrencyArg, rolesArg] = process.argv.slice(2);
const at = (p) => import(pathToFileURL(resolve(dist, p)).href);
const { openEventStore, openReadStore } = await at('app/stores.js');
const { Platform } = await at('app/platform.js');
const { CommandService } = await at('command-api/index.js');
const { WHOLE } = await at('processors/index.js');
const { default: pino } = await import(pathToFileURL(resolve(dist, '../node_modules/pino/pino.js')).href);

const roles = (rolesArg ?? 'processors,projections').split(',');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const logger = pino({ level: 'warn' });
const eventsConfig = { kind: 'sqlite', path: join(dir, 'events.db') };
const readsConfig = { kind: 'sqlite', path: join(dir, 'read.db') };
const events = await openEventStore(eventsConfig, { memoryMapped: false });
const reads = await openReadStore(readsConfig);
const main = new Platform(events, reads, logger, { processors: roles.includes('processors'), projections: false, partition: WHOLE });
let projEvents = null, projReads = null, proj = null;
if (roles.includes('projections')) {
  projEvents = await openEventStore(eventsConfig, { memoryMapped: false });
  projReads = await openReadStore(readsConfig, { memoryMapped: false });
  proj = new Platform(projEvents, projReads, logger, { processors: false, projections: true, partition: WHOLE });
}
const fail = (e) => { console.error(e); process.exit(1); };
await main.start(fail);
if (proj) await proj.start(fail);

const commands = new CommandService(events, async () => null);
const TERMS = { account: 'ACC-1', isin: 'US0378331005', side: 'BUY', quantity: 100, price: '10.5', currency: 'USD', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'CPTY' };
const concurrency = Number(concurrencyArg ?? 16);
// Under callgrind: WARM commands first, then the counters zeroed, COMMANDS measured and dumped (callgrind_control).
const warm = Number(process.env.WARM ?? 0);
let total = warm;
let next = 0;
let n = 0;
async function client() {
  while (next < total) {
    const i = next++;
    const outcome = await commands.captureTrade(`B${i.toString(36)}`, { ...TERMS }, { inputId: `in-${i}` });
    if (outcome._tag !== 'Right') fail(outcome.left);
    n++;
  }
}
// Until every follower has reached the head and it no longer moves.
const positions = () => [...main.processors.map((p) => p.status.position), ...(proj ? proj.projections.map((p) => p.currentPosition) : [])];
async function settle() {
  for (let stable = 0; stable < 3; ) {
    await new Promise((r) => setTimeout(r, 30));
    const head = await events.headPosition();
    stable = positions().every((p) => p >= head) ? stable + 1 : 0;
  }
}
const control = (what) => process.env.WARM !== undefined && execSync(`callgrind_control ${what} ${process.pid}`, { stdio: 'ignore' });
if (warm > 0) {
  await Promise.all(Array.from({ length: concurrency }, client));
  await settle();
}
control(process.env.CG_INSTR ? '-i on' : '-z');
total = warm + Number(count);
await Promise.all(Array.from({ length: concurrency }, client));
await settle();
control('-d');
const head = await events.headPosition();
await main.stop();
if (proj) { await proj.stop(); await projReads.close(); await projEvents.close(); }
await reads.close();
await events.close();
console.log(JSON.stringify({ commands: n, head }));
