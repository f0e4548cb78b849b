// node read-decorator-cost.mjs DIST DB MODE N: N readStream calls (and N/100 readStreams of 100 streams) on a store of 100 five-event streams,
// through the InstrumentedEventStore (MODE=instr) or the SQLite store itself (MODE=raw), telemetry started as serve starts it.
const [dist, db, mode, n] = process.argv.slice(2);
const tel = await import(`${dist}/telemetry/index.js`);
await tel.startTelemetry(tel.serviceIdentity({ version: '1', roles: ['api', 'processors'] }), {});
const { SqliteEventStore } = await import(`${dist}/eventstore/sqlite/index.js`);
const inner = SqliteEventStore.open(db);
const store = mode === 'instr' ? new tel.InstrumentedEventStore(inner, 'sqlite') : inner;
const streams = Array.from({ length: 100 }, (_, i) => `s-${i}`);
for (const s of streams) await inner.append(s, Array.from({ length: 5 }, (_, k) => ({ id: `${s}-${k}`, type: 'T', data: { k }, metadata: { correlationId: s } })), 'no_stream');
const count = Number(n);
let events = 0;
for (let i = 0; i < count; i++) events += (await store.readStream(streams[i % 100])).length;
for (let i = 0; i < count / 100; i++) events += (await store.readStreams(streams)).size;
console.log(JSON.stringify({ mode, events, metrics: mode === 'instr' ? /db_operation_name="read_stream"\} (\d+)/.exec(await tel.prometheusExposition())?.[1] ?? (await tel.prometheusExposition()).match(/^db_client_operation_duration_seconds_count.*$/gm) : null }));
await inner.close();
