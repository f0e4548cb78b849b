// node processors-catchup.mjs BUILD DATADIR [pollMs]: the two processors (slot blue, as serve runs them) catching up in-process to the
// head of a store where a feed was ingested and nothing else ran; prints the process's CPU seconds. The fourteenth session ran it under
// valgrind --tool=callgrind with node --single-threaded --predictable-gc-schedule --hash-seed=1 (BENCHMARKS.md).
import { createRequire } from 'node:module';
const [build, dataDir, pollArg = '200'] = process.argv.slice(2);
const pino = createRequire(`${build}/package.json`)('pino');
const { loadConfig } = await import(`${build}/dist/app/config.js`);
const { openEventStore, openReadStore } = await import(`${build}/dist/app/stores.js`);
const { Platform } = await import(`${build}/dist/app/platform.js`);
const config = loadConfig({ dataDir });
const logger = pino({ level: 'warn' });
const events = await openEventStore(config.eventStore, { memoryMapped: false });
const reads = await openReadStore(config.readStore, { memoryMapped: false });
const platform = new Platform(events, reads, logger, { processors: true, projections: false, partition: config.partition, slot: config.slot });
const started = process.cpuUsage();
const t0 = performance.now();
await platform.start((error) => { console.error(error); process.exit(1); });
let n = 0;
for (;;) {
  const head = await events.headPosition();
  if (platform.processors.every((p) => p.status.position >= head)) break;
  await new Promise((r) => setTimeout(r, +pollArg));
}
const cpu = process.cpuUsage(started);
const wall = performance.now() - t0;
await platform.stop();
await reads.close();
await events.close();
console.log(JSON.stringify({ cpuS: (cpu.user + cpu.system) / 1e6, wallS: wall / 1000 }));
