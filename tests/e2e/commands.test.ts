// Issue 3 through real HTTP: commands, idempotency, optimistic concurrency,
// read-your-writes, holds, resubmission, and how API and feed records rank.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDetail } from '../../ingestion/cx1/index.js';
import { alc, amd, corrupt, tempDir, trd, writeFeedFile, type FeedLine } from '../support/feed.js';
import { declareOversizedBody } from '../support/http.js';
import { ingest, KeplerServer } from '../support/kepler.js';

const TERMS = {
  account: 'ACC-1',
  isin: 'US0378331005',
  side: 'BUY',
  quantity: 100,
  price: '10.50',
  currency: 'USD',
  tradeDate: '2026-11-27',
  settleDate: '2026-11-30',
  counterparty: 'CPTY-1',
};

/** The 128-character CX1 line of a test feed line. */
const lineOf = (line: FeedLine): string => ('raw' in line ? line.raw : formatDetail(line.seq, line.record));

interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

describe('command API', () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  let server: KeplerServer;

  async function send<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
    const response = await fetch(server.url + path, {
      method,
      headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as T };
  }
  const trade = (ref: string, minPosition = 0) => send<Record<string, unknown>>('GET', `/trades/${encodeURIComponent(ref)}?minPosition=${minPosition}`);

  beforeAll(async () => {
    server = await KeplerServer.start(dataDir, { env: { KEPLER_READ_YOUR_WRITES_TIMEOUT_MS: '1500' } });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('captures a trade: 201, version 1 in the body and the ETag, and the query sees it at the returned position', async () => {
    const answer = await send<{ tradeRef: string; version: number; position: number }>('POST', '/trades', { tradeRef: 'CMD/1', ...TERMS });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ tradeRef: 'CMD/1', version: 1, position: expect.any(Number) });
    expect(answer.headers.get('etag')).toBe('"1"');
    const read = await trade('CMD/1', answer.body.position);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ tradeRef: 'CMD/1', version: 1, price: '10.5', status: 'PENDING' });
    expect(read.headers.get('etag')).toBe('"1"');
  });

  it('refuses what the trade rules refuse, as problem documents', async () => {
    expect((await send('POST', '/trades', { tradeRef: 'CMD/1', ...TERMS })).body).toMatchObject({ status: 409, type: '/problems/trade-exists' });
    expect((await send('POST', '/trades/NOPE/amendments', TERMS)).body).toMatchObject({ status: 404, type: '/problems/not-found' });
    expect((await send('POST', '/trades/NOPE/cancellation', { reason: 'x' })).status).toBe(404);
    expect((await send('PUT', '/trades/NOPE/allocations/A1', { account: 'FUND-1', quantity: 10 })).body).toMatchObject({ status: 404, type: '/problems/not-found' });
    expect((await send('POST', '/trades/NOPE/confirmations', { status: 'AFFIRMED', quantity: 10, price: '1', reason: '' })).status).toBe(404);
    expect((await send('PUT', '/trades/NOPE/hold')).status).toBe(404);
    expect((await send('DELETE', '/trades/NOPE/hold')).status).toBe(404);
    const invalid = await send<{ errors: Array<{ field: string }> }>('POST', '/trades', { ...TERMS, tradeRef: 'BAD', isin: 'US0378331009', tradeDate: '2026-02-30', price: '0' });
    expect(invalid.status).toBe(422);
    expect(invalid.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(invalid.body.errors.map((e) => e.field).sort()).toEqual(['isin', 'price', 'tradeDate']);
    const malformed = await send<{ errors: Array<{ field: string }> }>('POST', '/trades', { tradeRef: 'BAD', quantity: -1, price: 1.5 });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors.map((e) => e.field)).toEqual(expect.arrayContaining(['account', 'quantity', 'price']));
    expect((await trade('BAD')).status).toBe(404);
  });

  it('gives every malformed request its own problem type, and never a plain JSON error', async () => {
    const extra = await send<{ type: string; errors: Array<{ field: string; message: string }> }>('POST', '/trades', { tradeRef: 'EXTRA-1', ...TERMS, extra: 1 });
    expect(extra.status).toBe(400);
    expect(extra.body.type).toBe('/problems/invalid-request');
    expect(extra.body.errors).toEqual([{ field: 'extra', message: 'is not allowed' }]);
    expect((await trade('EXTRA-1')).status).toBe(404);

    for (const allocationId of ['%20', 'A1%20', '%20A1']) {
      expect((await send('PUT', `/trades/CMD%2F1/allocations/${allocationId}`, { account: 'FUND-1', quantity: 1 })).status, allocationId).toBe(400);
    }

    const cases: Array<[string, RequestInit, number, string]> = [
      ['/trades/%ZZ', {}, 400, '/problems/malformed-url'],
      ['/trades', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tradeRef":' }, 400, '/problems/malformed-body'],
      ['/trades', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<trade/>' }, 415, '/problems/unsupported-media-type'],
    ];
    for (const [path, init, status, type] of cases) {
      const response = await fetch(server.url + path, init);
      expect(response.status, path).toBe(status);
      expect(response.headers.get('content-type'), path).toMatch(/^application\/problem\+json/);
      expect(((await response.json()) as { type: string }).type, path).toBe(type);
    }
    const tooLarge = await declareOversizedBody(server.url, '/trades', 2_000_000);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.contentType).toMatch(/^application\/problem\+json/);
    expect((JSON.parse(tooLarge.body) as { type: string }).type).toBe('/problems/body-too-large');
  });

  it('amends with optimistic concurrency: a stale If-Match is a 409 that names the current version', async () => {
    const stale = await send<{ currentVersion: number; detail: string }>('POST', '/trades/CMD%2F1/amendments', { ...TERMS, quantity: 150 }, { 'if-match': '"7"' });
    expect(stale.status).toBe(409);
    expect(stale.body.currentVersion).toBe(1);
    expect(stale.body.detail).toContain('version 1');
    // Strong comparison (RFC 9110): a weak tag never matches; a list matches if any tag does.
    for (const weakOrOther of ['W/"1"', '"0001"', '"abc"']) {
      expect((await send('POST', '/trades/CMD%2F1/amendments', { ...TERMS, quantity: 150 }, { 'if-match': weakOrOther })).status, weakOrOther).toBe(409);
    }
    for (const malformed of ['1', '"1', '"1",', '"1" "2"']) {
      expect((await send('POST', '/trades/CMD%2F1/amendments', { ...TERMS, quantity: 150 }, { 'if-match': malformed })).status, malformed).toBe(400);
    }
    const amended = await send<{ version: number; position: number }>('POST', '/trades/CMD%2F1/amendments', { ...TERMS, quantity: 150 }, { 'if-match': '"1"' });
    expect(amended.status).toBe(201);
    expect(amended.body.version).toBe(2);
    expect(amended.headers.get('etag')).toBe('"2"');
    expect((await trade('CMD/1', amended.body.position)).body).toMatchObject({ version: 2, quantity: 150 });
    // On a trade of its own, so the versions the later tests expect of CMD/1 stay as they are.
    expect((await send('POST', '/trades', { tradeRef: 'IFM-1', ...TERMS })).status).toBe(201);
    // The whole trade, as a capture sends it: its reference, if there, must be the path's.
    expect((await send('POST', '/trades/IFM-1/amendments', { tradeRef: 'OTHER-9', ...TERMS })).body).toMatchObject({ status: 422, errors: [{ field: 'tradeRef' }] });
    const listed = await send('POST', '/trades/IFM-1/amendments', { tradeRef: 'IFM-1', ...TERMS }, { 'if-match': '"0", W/"1", "1"' });
    expect(listed.status).toBe(201);
    expect(listed.headers.get('etag')).toBe('"2"');
    expect((await send('POST', '/trades/IFM-1/amendments', TERMS, { 'if-match': '*' })).headers.get('etag')).toBe('"3"');
  });

  it('allocates, confirms and books; a hold reverses the booking and its release books again', async () => {
    expect((await send('PUT', '/trades/CMD%2F1/allocations/A1', { account: 'FUND-1', quantity: 100 })).status).toBe(200);
    const second = await send<{ version: number }>('PUT', '/trades/CMD%2F1/allocations/A2', { account: 'FUND-2', quantity: 50 });
    expect(second.status).toBe(200);
    expect(second.body.version).toBe(2);
    const confirmed = await send<{ position: number }>('POST', '/trades/CMD%2F1/confirmations', { status: 'AFFIRMED', quantity: 150, price: '10.5', reason: '' });
    expect(confirmed.status).toBe(201);
    await server.caughtUp();
    expect((await trade('CMD/1')).body).toMatchObject({ status: 'BOOKED', bookedVersion: 2 });
    expect((await server.json<{ items: unknown[] }>('/positions?isin=US0378331005')).items).toEqual(
      expect.arrayContaining([{ account: 'FUND-1', isin: 'US0378331005', quantity: 100 }, { account: 'FUND-2', isin: 'US0378331005', quantity: 50 }]),
    );

    const held = await send<{ position: number }>('PUT', '/trades/CMD%2F1/hold', { reason: 'four-eyes check' });
    expect(held.status).toBe(200);
    expect((await trade('CMD/1', held.body.position)).body).toMatchObject({ status: 'PENDING', onHold: true, bookedVersion: null });
    // Each read model follows the store on its own: the position is what makes this query see the hold.
    expect((await server.json<{ items: unknown[] }>(`/positions?isin=US0378331005&minPosition=${held.body.position}`)).items).toEqual([]);
    expect((await send('PUT', '/trades/CMD%2F1/hold')).body).toMatchObject({ status: 409, type: '/problems/already-on-hold' });
    const released = await send<{ position: number }>('DELETE', '/trades/CMD%2F1/hold');
    expect(released.status).toBe(200);
    expect((await trade('CMD/1', released.body.position)).body).toMatchObject({ status: 'BOOKED', onHold: false });
    expect((await send('DELETE', '/trades/CMD%2F1/hold')).body).toMatchObject({ status: 409, type: '/problems/not-on-hold' });

    const withdrawn = await send<{ position: number }>('PUT', '/trades/CMD%2F1/allocations/A2', { account: 'FUND-2', quantity: 0 });
    await server.caughtUp();
    expect((await trade('CMD/1', withdrawn.body.position)).body).toMatchObject({ status: 'PENDING', allocations: [{ allocationId: 'A1', account: 'FUND-1', quantity: 100 }] });
  });

  it('cancels: the next version; afterwards amendments are refused', async () => {
    await send('POST', '/trades', { tradeRef: 'CMD-2', ...TERMS });
    const cancelled = await send<{ version: number; position: number }>('POST', '/trades/CMD-2/cancellation', { reason: 'duplicate booking' });
    expect(cancelled.status).toBe(201);
    expect(cancelled.body.version).toBe(2);
    expect((await trade('CMD-2', cancelled.body.position)).body).toMatchObject({ status: 'CANCELLED', version: 2 });
    expect((await send('POST', '/trades/CMD-2/amendments', TERMS)).body).toMatchObject({ status: 409, type: '/problems/trade-cancelled' });
  });

  it('Idempotency-Key: a retry returns the first response and appends nothing; another body is a 422', async () => {
    const body = { tradeRef: 'IDEM-1', ...TERMS };
    const first = await send('POST', '/trades', body, { 'idempotency-key': 'key-idem-1' });
    const head = (await server.json<{ head: number }>('/status')).head;
    const retry = await send('POST', '/trades', body, { 'idempotency-key': 'key-idem-1' });
    expect(retry.status).toBe(first.status);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('etag')).toBe(first.headers.get('etag'));
    expect((await server.json<{ head: number }>('/status')).head).toBe(head);
    const reused = await send('POST', '/trades', { ...body, quantity: 5 }, { 'idempotency-key': 'key-idem-1' });
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ type: '/problems/idempotency-key-reused' });
  });

  it('Idempotency-Key: retries racing the original create one version and all get its answer', async () => {
    const body = { ...TERMS, quantity: 777 };
    const answers = await Promise.all(Array.from({ length: 12 }, () => send('POST', '/trades/CMD%2F1/amendments', body, { 'idempotency-key': 'race-1' })));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([201]));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    const { version } = answers[0]!.body as { version: number };
    expect(version).toBe(3);
    await server.caughtUp();
    expect((await trade('CMD/1')).body).toMatchObject({ version: 3, quantity: 777 });
  });

  it('Idempotency-Key: only the first answer is marked a replay; the same request spelt otherwise is the same request', async () => {
    const first = await send('PUT', '/trades/CMD%2F1/allocations/SPELT', { account: 'FUND-S', quantity: 0 }, { 'idempotency-key': 'key-spelt' });
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replay')).toBeNull();
    const otherSpelling = await send('PUT', '/trades/CMD%2f1/allocations/SPELT', { quantity: 0, account: 'FUND-S' }, { 'idempotency-key': 'key-spelt' });
    expect(otherSpelling.status).toBe(200);
    expect(otherSpelling.body).toEqual(first.body);
    expect(otherSpelling.headers.get('idempotent-replay')).toBe('true');
  });

  it('Idempotency-Key: requests racing with one key and different bodies run one command; the others are 422 and append nothing', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => send('POST', '/trades', { tradeRef: `RACE-${i}`, ...TERMS }, { 'idempotency-key': 'key-race-bodies' })));
    const created = answers.filter((a) => a.status === 201);
    expect(created).toHaveLength(1);
    expect(answers.filter((a) => a.status === 422)).toHaveLength(9);
    await server.caughtUp();
    const found = await Promise.all(Array.from({ length: 10 }, (_, i) => send('GET', `/trades/RACE-${i}`)));
    expect(found.filter((a) => a.status === 200).map((a) => a.body.tradeRef)).toEqual([(created[0]!.body as { tradeRef: string }).tradeRef]);
  });

  it('Idempotency-Key: a refusal is the answer a retry gets, even after the trade has changed', async () => {
    const amendment = { ...TERMS, quantity: 5 };
    const refused = await send('POST', '/trades/LATER-1/amendments', amendment, { 'idempotency-key': 'key-refused' });
    expect(refused.status).toBe(404);
    expect((await send('POST', '/trades', { tradeRef: 'LATER-1', ...TERMS })).status).toBe(201);
    const retry = await send('POST', '/trades/LATER-1/amendments', amendment, { 'idempotency-key': 'key-refused' });
    expect(retry.status).toBe(404);
    expect(retry.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(retry.headers.get('idempotent-replay')).toBe('true');
    expect(retry.body).toEqual(refused.body);
    expect((await send('POST', '/trades', { tradeRef: 'OTHER-1', ...TERMS }, { 'idempotency-key': 'key-refused' })).status).toBe(422);
  });

  it('Idempotency-Key: keys survive a restart', async () => {
    const body = { tradeRef: 'IDEM-2', ...TERMS };
    const first = await send('POST', '/trades', body, { 'idempotency-key': 'key-restart' });
    expect(await server.stop()).toBe(0);
    server = await KeplerServer.start(dataDir, { env: { KEPLER_READ_YOUR_WRITES_TIMEOUT_MS: '1500' } });
    const retry = await send('POST', '/trades', body, { 'idempotency-key': 'key-restart' });
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
  });

  it('read-your-writes: a position the read model cannot reach in time is a 503 with Retry-After', async () => {
    const answer = await send('GET', '/trades?minPosition=999999999');
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(answer.body).toMatchObject({ type: '/problems/not-caught-up' });
    const viaHeader = await send('GET', '/positions', undefined, { 'kepler-min-position': '999999999' });
    expect(viaHeader.status).toBe(503);
    expect((await send('GET', '/status?minPosition=999999999')).status).toBe(503);
    expect((await send('GET', '/status?minPosition=x')).status).toBe(400);
    const head = (await server.json<{ head: number }>('/status')).head;
    expect((await send('GET', `/status?minPosition=${head}`)).status).toBe(200);
  });

  it('resubmits a rejected line: the trade arrives and the exception stays, marked resolved', async () => {
    const good = trd(901, 'FIX-1');
    const bad = corrupt(good, 59, '9', 1000);
    const path = writeFeedFile(dir, { name: 'CORE_FIX.cx1', source: 'CORE', lines: [bad] });
    await ingest(dataDir, [path]);
    await server.caughtUp();
    const [exception] = (await server.json<{ items: Array<{ id: string; resolved: boolean }> }>('/exceptions?file=CORE_FIX.cx1&code=INVALID_RECORD')).items;
    expect(exception).toMatchObject({ resolved: false });

    const stillBad = await send('POST', `/exceptions/${exception!.id}/resubmission`, { line: (bad as { raw: string }).raw });
    expect(stillBad.status).toBe(422);
    const fixed = await send<{ tradeRef: string; version: number; position: number }>('POST', `/exceptions/${exception!.id}/resubmission`, {
      line: formatDetail(901, (good as { record: Parameters<typeof formatDetail>[1] }).record),
    });
    expect(fixed.status).toBe(201);
    expect(fixed.body).toMatchObject({ tradeRef: 'FIX-1', version: 1 });
    // Read-your-writes: the returned position already holds the trade the line makes.
    expect((await trade('FIX-1', fixed.body.position)).body).toMatchObject({ version: 1, status: 'PENDING' });
    await server.caughtUp();
    expect((await trade('FIX-1')).body).toMatchObject({ version: 1, status: 'PENDING' });
    const after = (await server.json<{ items: Array<{ id: string; resolved: boolean; raw: string }> }>('/exceptions?file=CORE_FIX.cx1')).items;
    expect(after).toEqual([expect.objectContaining({ id: exception!.id, resolved: true, raw: (bad as { raw: string }).raw })]);
    expect((await send('POST', `/exceptions/${exception!.id}/resubmission`, { line: 'x' })).status).toBe(409);
    expect((await send('POST', '/exceptions/unknown/resubmission', { line: 'x' })).status).toBe(404);
  });

  it('resubmissions racing with different lines: one is taken, the others are refused and ingest nothing', async () => {
    await ingest(dataDir, [writeFeedFile(dir, { name: 'CORE_RACE.cx1', source: 'CORE', lines: [corrupt(trd(911, 'RACE-FIX'), 59, '9', 1000)] })]);
    await server.caughtUp();
    const [exception] = (await server.json<{ items: Array<{ id: string }> }>('/exceptions?file=CORE_RACE.cx1')).items;
    const candidates = [921, 922, 923, 924].map((seq) => lineOf(trd(seq, `RACE-FIX-${seq}`)));
    const answers = await Promise.all(candidates.map((line) => send('POST', `/exceptions/${exception!.id}/resubmission`, { line })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409]);
    await server.caughtUp();
    const taken = (answers.find((a) => a.status === 201)!.body as { tradeRef: string }).tradeRef;
    for (const seq of [921, 922, 923, 924]) {
      expect((await trade(`RACE-FIX-${seq}`)).status, `RACE-FIX-${seq}`).toBe(`RACE-FIX-${seq}` === taken ? 200 : 404);
    }
  });

  it('a resubmitted line whose sequence holds other content is refused, records nothing, and leaves the exception open', async () => {
    const path = writeFeedFile(dir, { name: 'CORE_TAKEN.cx1', source: 'CORE', lines: [trd(931, 'TAKEN-1'), corrupt(trd(932, 'TAKEN-2'), 59, '9', 1000)] });
    await ingest(dataDir, [path]);
    await server.caughtUp();
    const before = (await server.json<{ items: Array<{ id: string; code: string }> }>('/exceptions?file=CORE_TAKEN.cx1')).items;
    expect(before.map((e) => e.code)).toEqual(['INVALID_RECORD']);
    const takenSequence = lineOf(trd(931, 'TAKEN-2'));
    const refused = await send('POST', `/exceptions/${before[0]!.id}/resubmission`, { line: takenSequence });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ type: '/problems/sequence-conflict' });
    await server.caughtUp();
    expect((await server.json<{ items: Array<{ code: string; resolved: boolean }> }>('/exceptions?file=CORE_TAKEN.cx1')).items).toEqual([expect.objectContaining({ code: 'INVALID_RECORD', resolved: false })]);
    const good = lineOf(trd(933, 'TAKEN-2'));
    const fixed = await send<{ position: number }>('POST', `/exceptions/${before[0]!.id}/resubmission`, { line: good });
    expect(fixed.status).toBe(201);
    expect((await trade('TAKEN-2', fixed.body.position)).status).toBe(200);
  });

  it('API and feed records of one trade rank as documented', async () => {
    // Versions: one sequence per trade, shared by every source; the first content for a version stands.
    const captured = await send<{ position: number }>('POST', '/trades', { tradeRef: 'MIX-1', ...TERMS });
    expect(captured.status).toBe(201);
    const feed = writeFeedFile(dir, {
      name: 'CORE_MIX.cx1',
      source: 'CORE',
      lines: [amd(950, 'MIX-1', 2, { quantity: 200, price: '10.5' }), trd(951, 'MIX-1', { quantity: 1, price: '99' })],
    });
    await ingest(dataDir, [feed]);
    await server.caughtUp();
    expect((await trade('MIX-1')).body).toMatchObject({ version: 2, quantity: 200 });
    expect((await server.json<{ items: unknown[] }>('/exceptions?file=CORE_MIX.cx1&code=VERSION_CONFLICT')).items).toHaveLength(1);
    const amended = await send<{ version: number }>('POST', '/trades/MIX-1/amendments', { ...TERMS, quantity: 300 });
    expect(amended.body.version).toBe(3);

    // Allocations: the API's record replaces what stands; a feed record replaces it only if it
    // arrives later and is the highest sequence its feed has sent for that allocation.
    await ingest(dataDir, [writeFeedFile(dir, { name: 'ALLOC_MIX_1.cx1', source: 'ALLOC', lines: [alc(500, 'MIX-1', 'A1', 'FUND-F', 60)] })]);
    await send('PUT', '/trades/MIX-1/allocations/A1', { account: 'FUND-API', quantity: 300 });
    await ingest(dataDir, [writeFeedFile(dir, { name: 'ALLOC_MIX_2.cx1', source: 'ALLOC', lines: [alc(499, 'MIX-1', 'A1', 'FUND-OLD', 1)] })]);
    await server.caughtUp();
    expect((await trade('MIX-1')).body).toMatchObject({ allocations: [{ allocationId: 'A1', account: 'FUND-API', quantity: 300 }] });
    await ingest(dataDir, [writeFeedFile(dir, { name: 'ALLOC_MIX_3.cx1', source: 'ALLOC', lines: [alc(501, 'MIX-1', 'A1', 'FUND-NEW', 300)] })]);
    await server.caughtUp();
    expect((await trade('MIX-1')).body).toMatchObject({ allocations: [{ allocationId: 'A1', account: 'FUND-NEW', quantity: 300 }] });
  });

  it("continues the caller's trace: its traceparent is stamped on the command's events and on what they cause", async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const answer = await send<{ position: number }>('POST', '/trades', { tradeRef: 'TRACE-1', ...TERMS }, { traceparent });
    expect(answer.status).toBe(201);
    await server.caughtUp();
    const db = new Database(join(dataDir, 'events.db'), { readonly: true });
    const rows = db.prepare("SELECT stream, type, metadata FROM events WHERE stream IN ('trade-TRACE-1', 'booking-TRACE-1')").all() as Array<{ stream: string; type: string; metadata: string }>;
    db.close();
    expect(rows.map((r) => r.type)).toEqual(expect.arrayContaining(['VersionApplied', 'TradeVersionNoted']));
    for (const row of rows) expect((JSON.parse(row.metadata) as { traceparent?: string }).traceparent, row.type).toBe(traceparent);
  });

  it('publishes its OpenAPI document and the docs UI', async () => {
    const doc = await server.json<{ paths: Record<string, Record<string, unknown>> }>('/docs/json');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/trades', '/trades/{ref}/amendments', '/trades/{ref}/hold', '/exceptions/{id}/resubmission']));
    expect(doc.paths['/trades']).toHaveProperty('post');
    const ui = await fetch(`${server.url}/docs/`);
    expect(ui.status).toBe(200);
  });
});
