// The CX1 contract end to end: files in through the CLI, the platform's view out through HTTP.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFerretDb } from '../support/ferretdb.js';
import { postgresAvailable, postgresEverything, productionLayout, SQLITE, type Layout } from '../support/layouts.js';
import { tryStartServer } from '../support/servers.js';
import { rabbitMq } from '../messaging/rabbit.js';
import { alc, amd, cnf, corrupt, cxl, tempDir, trd, writeFeedFile, type FileSpec } from '../support/feed.js';
import { ingest, KeplerServer, runCli, snapshot } from '../support/kepler.js';

const A1_BAD_ISIN = corrupt(trd(6, 'D-4'), 59, '9', 1000);

const FILES: FileSpec[] = [
  {
    name: 'CORE_01.cx1',
    source: 'CORE',
    lines: [
      trd(1, 'A-1'),
      trd(2, 'B/2', { side: 'SELL', quantity: 500, price: '4.125', isin: 'GB0002634946', currency: 'GBP' }),
      amd(3, 'B/2', 3, { side: 'SELL', quantity: 700, price: '4.125', isin: 'GB0002634946', currency: 'GBP' }),
      trd(4, 'C-3', { quantity: 100, price: '100', isin: 'DE0007164600', currency: 'EUR' }),
      cxl(5, 'C-3', 2, 'client request'),
      trd(1, 'A-1'),
      A1_BAD_ISIN,
      alc(7, 'A-1', 'X1', 'FUND-X', 5),
    ],
  },
  {
    name: 'ALLOC_01.cx1',
    source: 'ALLOC',
    trailer: 'missing',
    lines: [
      alc(1, 'A-1', 'AL1', 'FUND-1', 600),
      alc(2, 'A-1', 'AL2', 'FUND-2', 400),
      alc(3, 'B/2', 'AL1', 'FUND-1', 700),
      alc(4, 'E-5', 'AL1', 'FUND-9', 10),
      alc(9, 'B/2', 'AL2', 'FUND-2', 0),
      alc(8, 'B/2', 'AL2', 'FUND-2', 50),
    ],
  },
  {
    name: 'CUSTODY_01.cx1',
    source: 'CUSTODY',
    lines: [cnf(1, 'A-1', 1000, '189.25'), cnf(2, 'B/2', 700, '4.125'), cnf(3, 'C-3', 100, '100', 'REJECTED', 'trade cancelled')],
  },
  {
    name: 'CORE_02.cx1',
    source: 'CORE',
    trailer: { recordCount: 6, controlTotal: 0n },
    lineEnding: '\n',
    lines: [
      amd(10, 'B/2', 2, { side: 'SELL', quantity: 700, price: '4.125', isin: 'GB0002634946', currency: 'GBP' }),
      trd(11, 'A-1', { price: '190' }),
      amd(12, 'C-3', 3, { quantity: 100, price: '100', isin: 'DE0007164600', currency: 'EUR' }),
      trd(4, 'C-3', { quantity: 999, price: '100', isin: 'DE0007164600', currency: 'EUR' }),
      trd(13, 'A-1'),
    ],
  },
];

const HEADERLESS: FileSpec = { name: 'BROKEN_01.cx1', source: 'CORE', header: 'NOT A HEADER', lines: [trd(50, 'Z-9')], trailer: 'missing' };

function expectContractState(state: Awaited<ReturnType<typeof snapshot>>) {
  const byRef = Object.fromEntries(state.trades.map((t) => [t.tradeRef, t]));
  expect(Object.keys(byRef).sort()).toEqual(['A-1', 'B/2', 'C-3', 'E-5']);
  expect(byRef['A-1']).toEqual({
    tradeRef: 'A-1',
    status: 'BOOKED',
    version: 1,
    pendingVersions: [],
    bookedVersion: 1,
    account: 'ACC-A',
    isin: 'US0378331005',
    side: 'BUY',
    quantity: 1000,
    price: '189.25',
    currency: 'USD',
    tradeDate: '2026-11-27',
    settleDate: '2026-11-30',
    counterparty: 'CPTY-1',
    allocations: [
      { allocationId: 'AL1', account: 'FUND-1', quantity: 600 },
      { allocationId: 'AL2', account: 'FUND-2', quantity: 400 },
    ],
    confirmation: { status: 'AFFIRMED', quantity: 1000, price: '189.25', reason: '' },
    onHold: false,
    // Every change came from a feed, not from a principal of the API.
    lastChangedBy: null,
  });
  expect(byRef['B/2']).toMatchObject({ status: 'BOOKED', version: 3, bookedVersion: 3, pendingVersions: [], quantity: 700, side: 'SELL', price: '4.125' });
  expect(byRef['B/2']!.allocations).toEqual([{ allocationId: 'AL1', account: 'FUND-1', quantity: 700 }]);
  expect(byRef['C-3']).toMatchObject({ status: 'CANCELLED', version: 2, bookedVersion: null, quantity: 100, price: '100', currency: 'EUR' });
  expect(byRef['C-3']!.confirmation).toEqual({ status: 'REJECTED', quantity: 100, price: '100', reason: 'trade cancelled' });
  expect(byRef['E-5']).toMatchObject({ status: 'AWAITING_TRADE', version: 0, bookedVersion: null, account: null, quantity: null, price: null, confirmation: null });
  expect(byRef['E-5']!.allocations).toEqual([{ allocationId: 'AL1', account: 'FUND-9', quantity: 10 }]);

  expect(state.positions).toEqual([
    { account: 'FUND-1', isin: 'GB0002634946', quantity: -700 },
    { account: 'FUND-1', isin: 'US0378331005', quantity: 600 },
    { account: 'FUND-2', isin: 'US0378331005', quantity: 400 },
  ]);
  expect(state.counts).toEqual({
    INVALID_RECORD: 3,
    SOURCE_MISMATCH: 1,
    SEQUENCE_CONFLICT: 1,
    VERSION_CONFLICT: 1,
    TRADE_CANCELLED: 1,
    TRAILER_MISMATCH: 2,
  });
}

// The same contract on every layout of stores: embedded, MongoDB read models (FerretDB, a real
// wire-protocol server), PostgreSQL for everything, and the production layout tested here.
const ferretDb = await tryStartServer('FerretDB', () => startFerretDb());
const postgres = await postgresAvailable();
const amqpUrl = await rabbitMq();
afterAll(async () => {
  await ferretDb?.stop();
});

const LAYOUTS: Layout[] = [
  SQLITE,
  {
    name: 'MongoDB read models',
    enabled: ferretDb !== undefined,
    setup: async () => ({
      env: { KEPLER_MONGODB_URL: ferretDb!.uri, KEPLER_MONGODB_DATABASE: `kepler_${randomUUID().slice(0, 8)}` },
      database: null,
      teardown: async () => undefined,
    }),
  },
  postgresEverything(postgres),
  productionLayout(postgres && ferretDb !== undefined, amqpUrl),
];

for (const layout of LAYOUTS) describe.skipIf(!layout.enabled)(`CX1 end to end through the CLI and HTTP, ${layout.name}`, () => {
  const dir = tempDir();
  const dataDir = `${dir}/data`;
  let server: KeplerServer;
  let paths: string[];
  let env: NodeJS.ProcessEnv = {};
  let teardown = async () => {};

  beforeAll(async () => {
    paths = [...FILES, HEADERLESS].map((spec) => writeFeedFile(dir, spec));
    ({ env, teardown } = await layout.setup());
    server = await KeplerServer.start(dataDir, { env });
  });
  afterAll(async () => {
    try {
      expect(await server.stop()).toBe(0);
    } finally {
      await teardown();
    }
  });

  it('summarises each file: lines, accepted, duplicates, rejected and the trailer check', async () => {
    const summaries = await ingest(dataDir, paths, env);
    expect(summaries).toEqual([
      { file: 'CORE_01.cx1', source: 'CORE', businessDate: '2026-11-27', fileNumber: '0000000001', lines: 8, accepted: 5, duplicates: 1, rejected: 2, trailer: 'OK' },
      { file: 'ALLOC_01.cx1', source: 'ALLOC', businessDate: '2026-11-27', fileNumber: '0000000001', lines: 6, accepted: 6, duplicates: 0, rejected: 0, trailer: 'MISSING' },
      { file: 'CUSTODY_01.cx1', source: 'CUSTODY', businessDate: '2026-11-27', fileNumber: '0000000001', lines: 3, accepted: 3, duplicates: 0, rejected: 0, trailer: 'OK' },
      { file: 'CORE_02.cx1', source: 'CORE', businessDate: '2026-11-27', fileNumber: '0000000001', lines: 5, accepted: 4, duplicates: 0, rejected: 1, trailer: 'MISMATCH' },
      { file: 'BROKEN_01.cx1', source: null, businessDate: null, fileNumber: null, lines: 2, accepted: 0, duplicates: 0, rejected: 2, trailer: 'NOT_CHECKED' },
    ]);
    await server.caughtUp();
  });

  it('shows what each trade became, the positions and the exceptions by reason', async () => {
    expectContractState(await snapshot(server));
  });

  it('keeps every rejected line with its file, line number, reason and raw text', async () => {
    const exceptions = await server.all<{ code: string; file: string; line: number | null; tradeRef: string | null; detail: string; raw: string }>('/exceptions');
    const find = (code: string, file: string) => exceptions.filter((e) => e.code === code && e.file === file);
    expect(find('INVALID_RECORD', 'CORE_01.cx1')).toEqual([expect.objectContaining({ line: 8, tradeRef: 'D-4', raw: expect.stringMatching(/^TRD000000000006D-4/) })]);
    expect(find('INVALID_RECORD', 'CORE_01.cx1')[0]!.detail).toMatch(/ISIN/);
    expect(find('INVALID_RECORD', 'CORE_01.cx1')[0]!.raw).toHaveLength(128);
    expect(find('SOURCE_MISMATCH', 'CORE_01.cx1')).toEqual([expect.objectContaining({ line: 9, tradeRef: 'A-1' })]);
    expect(find('SEQUENCE_CONFLICT', 'CORE_02.cx1')).toEqual([expect.objectContaining({ line: 5, tradeRef: 'C-3' })]);
    expect(find('VERSION_CONFLICT', 'CORE_02.cx1')).toEqual([expect.objectContaining({ line: 3, tradeRef: 'A-1' })]);
    expect(find('TRADE_CANCELLED', 'CORE_02.cx1')).toEqual([expect.objectContaining({ line: 4, tradeRef: 'C-3' })]);
    expect(find('TRAILER_MISMATCH', 'CORE_02.cx1')).toHaveLength(1);
    expect(find('TRAILER_MISMATCH', 'ALLOC_01.cx1')).toHaveLength(1);
    expect(find('INVALID_RECORD', 'BROKEN_01.cx1').map((e) => e.line).sort()).toEqual([1, 2]);
    expect((await server.all('/exceptions?code=TRAILER_MISMATCH')).length).toBe(2);
    expect((await server.all('/exceptions?file=CORE_02.cx1')).map((e) => (e as { code: string }).code).sort()).toEqual(['SEQUENCE_CONFLICT', 'TRADE_CANCELLED', 'TRAILER_MISMATCH', 'VERSION_CONFLICT']);
  });

  it('ingesting the same files again changes nothing and counts the duplicates', async () => {
    const before = await snapshot(server);
    const again = await ingest(dataDir, paths, env);
    expect(again.map((s) => [s.accepted, s.duplicates, s.rejected])).toEqual([
      [0, 6, 2],
      [0, 6, 0],
      [0, 3, 0],
      [0, 4, 1],
      [0, 0, 2],
    ]);
    await server.caughtUp();
    expect(await snapshot(server)).toEqual(before);
  });

  it('answers filters, pagination, 404 and 400 as problem documents', async () => {
    expect((await server.json<{ items: Array<{ tradeRef: string }> }>('/trades?status=BOOKED')).items.map((t) => t.tradeRef)).toEqual(['A-1', 'B/2']);
    expect((await server.json<{ items: unknown[] }>('/trades?isin=GB0002634946')).items).toHaveLength(1);
    expect((await server.json<{ items: unknown[] }>('/trades?status=&account=&isin=&limit=&cursor=')).items).toHaveLength(4);
    expect((await server.json<{ items: unknown[] }>('/positions?account=FUND-1')).items).toHaveLength(2);
    expect((await server.json<{ items: unknown[] }>('/positions?isin=US0378331005')).items).toHaveLength(2);

    const first = await server.json<{ items: Array<{ tradeRef: string }>; nextCursor: string }>('/trades?limit=3');
    expect(first.items).toHaveLength(3);
    const second = await server.json<{ items: Array<{ tradeRef: string }>; nextCursor: string | null }>(`/trades?limit=3&cursor=${first.nextCursor}`);
    expect([...first.items, ...second.items].map((t) => t.tradeRef)).toEqual(['A-1', 'B/2', 'C-3', 'E-5']);
    expect(second.nextCursor).toBeNull();
    // One trade answers exactly what the list shows of it: the API's fields, none of the read model's own (asOf, cancelled).
    for (const listed of [...first.items, ...second.items]) {
      const one = await server.get<Record<string, unknown>>(`/trades/${encodeURIComponent(listed.tradeRef)}`);
      expect(one.body).toEqual(listed);
      expect(Object.keys(one.body)).toEqual(Object.keys(listed));
      expect(one.headers.get('etag')).toBe(`"${one.body.version}"`);
    }

    const missing = await server.get<{ status: number; type: string }>('/trades/NOPE');
    expect(missing.status).toBe(404);
    expect((await server.get(`/trades/${encodeURIComponent('A-REFERENCE-LONGER-THAN-SIXTEEN/X')}`)).status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    for (const [query, parameter] of [
      ['/trades?status=DONE', 'status'],
      ['/trades?limit=abc', 'limit'],
      ['/trades?limit=0', 'limit'],
      ['/trades?cursor=%%%', 'cursor'],
      ['/positions?isin=XX', 'isin'],
      ['/exceptions?code=NOPE', 'code'],
    ] as const) {
      const response = await server.get<{ detail: string }>(query);
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body.detail, query).toContain(parameter);
    }
  });

  it('missing files are a clear error and exit status 2, each named, and nothing is ingested', async () => {
    const before = await server.json<{ head: number }>('/status');
    const fresh = writeFeedFile(dir, { name: 'CORE_UNSEEN.cx1', source: 'CORE', lines: [trd(777, 'UNSEEN-1')] });
    const result = await runCli(['ingest', '--data-dir', dataDir, '--json', `${dir}/NOT_THERE.cx1`, fresh, `${dir}/NOR_THIS.cx1`], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`kepler ingest: cannot read ${dir}/NOT_THERE.cx1: no such file\nkepler ingest: cannot read ${dir}/NOR_THIS.cx1: no such file\nkepler ingest: nothing was ingested\n`);
    expect(result.stdout).toBe('');
    // The readable file named beside it was not ingested either.
    expect((await server.json<{ head: number }>('/status')).head).toBe(before.head);
  });

  it('adds positions up exactly past 2^53, and answers them as exact JSON integers', async () => {
    const largest = 999_999_999_999_999;
    const quantities = [...Array<number>(9).fill(largest), largest - 1];
    const refs = quantities.map((_, i) => `BIG-${i}`);
    const big = [
      writeFeedFile(dir, { name: 'CORE_BIG.cx1', source: 'CORE', lines: refs.map((ref, i) => trd(900 + i, ref, { quantity: quantities[i]!, price: '1' })) }),
      writeFeedFile(dir, { name: 'ALLOC_BIG.cx1', source: 'ALLOC', lines: refs.map((ref, i) => alc(900 + i, ref, 'AL1', 'BIGPOS', quantities[i]!)) }),
      writeFeedFile(dir, { name: 'CUSTODY_BIG.cx1', source: 'CUSTODY', lines: refs.map((ref, i) => cnf(900 + i, ref, quantities[i]!, '1')) }),
    ];
    await ingest(dataDir, big, env);
    await server.caughtUp();
    const response = await fetch(`${server.url}/positions?account=BIGPOS`);
    // Read as text: JSON.parse would round the number the test is about.
    expect(await response.text()).toBe('{"items":[{"account":"BIGPOS","isin":"US0378331005","quantity":9999999999999989}]}');
  });
});

describe('records of one trade arriving in any order', () => {
  it('ALC and CNF before the TRD, and the files in another order, end in the same state', async () => {
    const dir = tempDir();
    const [core1, alloc, custody, core2] = FILES.map((spec) => writeFeedFile(dir, spec));
    const broken = writeFeedFile(dir, HEADERLESS);
    const server = await KeplerServer.start(`${dir}/data`);
    try {
      await ingest(`${dir}/data`, [custody!, alloc!, broken]);
      await server.caughtUp();
      expect((await server.json<{ status: string }>('/trades/A-1')).status).toBe('AWAITING_TRADE');
      await ingest(`${dir}/data`, [core1!, core2!]);
      await server.caughtUp();
      expectContractState(await snapshot(server));
    } finally {
      await server.stop();
    }
  });
});
