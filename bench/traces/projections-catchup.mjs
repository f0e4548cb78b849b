// node projections-catchup.mjs BUILD DATADIR: the five projections catching up in-process on a fan-out (Platform, projections only), as the
// projections thread runs them, until caught up (the thirteenth session ran it under valgrind --tool=callgrind with node --single-threaded
// --predictable-gc-schedule --hash-seed=1, on a copy of a caught-up store without read.db). BUILD: a built checkout (dist/, node_modules/).
// Looks for caughtUp every 500 ms: at every 20 ms (as until the fifteenth session) each look's status() was counted too, and under callgrind on a
// loaded machine a run lasts minutes, so the whole process's count moved by about 0.3 G with the load (fifteenth session).
import { createRequire } from 'node:module';
const [build, dataDir] = process.argv.slice(2);
const pino = createRequire(`${build}/package.json`)('pino');
const { loadConfig } = await import(`${build}/dist/app/config.js`);
const { openEventStore, openReadStore } = await import(`${build}/dist/app/stores.js`);
const { Platform } = await import(`${build}/dist/app/platform.js`);
const config = loadConfig({ dataDir });
const logger = pino({ level: 'warn' });
const events = await openEventStore(config.eventStore, { memoryMapped: false });
const reads = await openReadStore(config.readStore, { memoryMapped: false });
const platform = new Platform(events, reads, logger, { processors: false, projections: true, partition: config.partition });
const started = process.cpuUsage();
await platform.start((error) => { console.error(error); process.exit(1); });
for (;;) {
  const status = await platform.status();
  if (status.caughtUp) break;
  await new Promise((r) => setTimeout(r, 500));
}
const cpu = process.cpuUsage(started);
await platform.stop();
await reads.close();
await events.close();
console.log(JSON.stringify({ cpuS: (cpu.user + cpu.system) / 1e6 }));
