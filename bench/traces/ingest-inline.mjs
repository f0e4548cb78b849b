// node ingest-inline.mjs DIST DB FILE...: ingests the files inline (parse and write on one thread) into a fresh SQLite store.
const [dist, db, ...files] = process.argv.slice(2);
const { SqliteEventStore } = await import(`${dist}/eventstore/sqlite/index.js`);
const { FileIngestor } = await import(`${dist}/ingestion/index.js`);
const store = SqliteEventStore.open(db);
for await (const s of new FileIngestor(store).ingestAll(files)) console.log(JSON.stringify({ file: s.file, lines: s.lines, accepted: s.accepted, duplicates: s.duplicates, rejected: s.rejected }));
await store.close();
