// `npm run bench -- postgres`: ingest, first-line-to-caughtUp and commands with the event store on
// PostgreSQL, each as a ratio to what the same server does raw in the same run: batched inserts of
// events of the same size into a table with the same unique constraint. PostgreSQL is the machine's
// (KEPLER_BENCH_POSTGRES_URL to use another); every figure runs in a database of its own, dropped after.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { writeLargeFeed } from './feed-generator.js';
import { captureTradeRequest, rate, runMeasured, ServeProcess } from './platform.js';

const ADMIN_URL = process.env.KEPLER_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface RawInsertOptions {
  /** Events to insert. */
  events: number;
  /** Events per INSERT statement (and per transaction). */
  batch: number;
  /** Bytes of JSON per event, data and metadata together. */
  eventBytes: number;
  /** Clients inserting at once, each its own connection. Default 1. */
  clients?: number;
}

/**
 * The server's own limit for Kepler's kind of write: rows shaped like kepler_events (same columns,
 * same unique (stream, revision) constraint), inserted by batches from unnest'ed arrays, one commit
 * per batch. Events per second. Creates and drops its own table in the database `url` names.
 */
export async function rawPostgresInsertRate(url: string, options: RawInsertOptions): Promise<number> {
  const table = `bench_raw_${randomUUID().slice(0, 8)}`;
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query(`CREATE TABLE ${table} (
    position bigint PRIMARY KEY, stream text NOT NULL, revision bigint NOT NULL, id text NOT NULL, type text NOT NULL,
    data json NOT NULL, metadata json NOT NULL, recorded_at timestamptz NOT NULL, UNIQUE (stream, revision))`);
  const padding = 'x'.repeat(Math.max(0, options.eventBytes - 120));
  const metadata = JSON.stringify({ correlationId: 'T0000001', source: 'CORE', sourceSequence: 1, file: 'CORE_0001.cx1', line: 1 });
  const clients = options.clients ?? 1;
  let next = 0;
  const started = process.hrtime.bigint();
  try {
    await Promise.all(
      Array.from({ length: clients }, async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          for (;;) {
            const first = next;
            const count = Math.min(options.batch, options.events - first);
            if (count <= 0) return;
            next += count;
            const positions = Array.from({ length: count }, (_, i) => first + i + 1);
            await client.query(
              `INSERT INTO ${table} (position, stream, revision, id, type, data, metadata, recorded_at)
               SELECT p, 'raw-' || p, 0, 'id-' || p, 'RecordReceived', d::json, m::json, clock_timestamp()
               FROM unnest($1::bigint[], $2::text[], $3::text[]) AS r(p, d, m)`,
              [positions, positions.map((p) => JSON.stringify({ n: p, padding })), positions.map(() => metadata)],
            );
          }
        } finally {
          await client.end();
        }
      }),
    );
    return options.events / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    await setup.query(`DROP TABLE ${table}`);
    await setup.end();
  }
}

async function withDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const name = `kepler_bench_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: ADMIN_URL });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await work(url.toString());
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** Average bytes of JSON (data and metadata) per event in a Kepler store. */
async function eventBytes(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ bytes: string }>('SELECT avg(octet_length(data::text) + octet_length(metadata::text))::int AS bytes FROM kepler_events');
    return Number(rows[0]!.bytes);
  } finally {
    await client.end();
  }
}


export async function postgresSection(report: (name: string, value: string | number) => void): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kepler-bench-pg-'));
  try {
    // Ingest: one CLI run of a 250,000-line file.
    const lines = 250_000;
    const file = await writeLargeFeed(join(work, `CORE_${lines}.cx1`), { lines, seed: 1, source: 'CORE' });
    const ingest = await withDatabase(async (url) => {
      const run = await runMeasured(['ingest', '--data-dir', join(work, 'ingest'), '--json', file.path], { KEPLER_EVENTSTORE_URL: url });
      if (run.code !== 0) throw new Error(run.stderr);
      return { seconds: run.seconds, bytes: await eventBytes(url) };
    });
    const raw = await withDatabase((url) => rawPostgresInsertRate(url, { events: lines, batch: 5000, eventBytes: ingest.bytes }));
    report('postgres: raw batched insert, events/s (5,000 a commit)', rate(raw, 1));
    report(`postgres: ingest ${lines.toLocaleString('en')} lines, lines/s`, rate(lines, ingest.seconds));
    report('postgres: ingest, ratio to raw batched insert', (lines / ingest.seconds / raw).toFixed(2));

    // First line to caughtUp: 20,000 trades from three sources, serve running on the same database.
    const trades = 20_000;
    const caughtUp = await withDatabase(async (url) => {
      const env = { KEPLER_EVENTSTORE_URL: url };
      const core = await writeLargeFeed(join(work, 'CORE_0001.cx1'), { lines: Math.round(trades * 1.2), seed: 7, source: 'CORE' });
      const alloc = await writeLargeFeed(join(work, 'ALLOC_0001.cx1'), { lines: trades * 2, seed: 7, source: 'ALLOC' });
      const custody = await writeLargeFeed(join(work, 'CUSTODY_0001.cx1'), { lines: trades, seed: 7, source: 'CUSTODY' });
      const total = core.lines + alloc.lines + custody.lines;
      const serve = await ServeProcess.start(join(work, 'caughtup'), [], env);
      try {
        const started = process.hrtime.bigint();
        const run = await runMeasured(['ingest', '--data-dir', join(work, 'caughtup'), core.path, alloc.path, custody.path], env);
        if (run.code !== 0) throw new Error(run.stderr);
        await serve.caughtUp(total);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        return { seconds, head: (await serve.status()).head };
      } finally {
        await serve.stop();
      }
    });
    const rawSeconds = caughtUp.head / raw;
    report(`postgres: caughtUp, ${trades.toLocaleString('en')} trades (${caughtUp.head.toLocaleString('en')} events)`, `${caughtUp.seconds.toFixed(1)} s`);
    report('postgres: caughtUp, ratio of raw insert time of its events to it', (rawSeconds / caughtUp.seconds).toFixed(2));

    // Commands: capture-trade at 16 connections; the raw baseline is one event per commit, 16 clients.
    const commands = await withDatabase(async (url) => {
      const serve = await ServeProcess.start(join(work, 'commands'), [], { KEPLER_EVENTSTORE_URL: url });
      try {
        const request = captureTradeRequest('P');
        const load = (duration: number) => autocannon({ url: serve.url, connections: 16, duration, requests: [request] });
        await load(3);
        const result = await load(10);
        return { perSecond: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, bytes: await eventBytes(url) };
      } finally {
        await serve.stop();
      }
    });
    const rawCommits = await withDatabase((url) => rawPostgresInsertRate(url, { events: 20_000, batch: 1, eventBytes: commands.bytes, clients: 16 }));
    report('postgres: raw single-event commits/s, 16 clients', rate(rawCommits, 1));
    report('postgres: capture-trade, 16 connections, commands/s', rate(commands.perSecond, 1));
    report('postgres: capture-trade, p99 ms / non-2xx', `${commands.p99} / ${commands.non2xx}`);
    report('postgres: capture-trade, ratio to raw single-event commits', (commands.perSecond / rawCommits).toFixed(2));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
