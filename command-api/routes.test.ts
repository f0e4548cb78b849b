// The command routes as a client meets them, in-process: body validation (every invalid field named,
// unknown fields and float prices refused, any text the patterns allow taken) and Idempotency-Keys.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../eventstore/index.js';
import { createHttpServer } from '../query-api/index.js';
import { tempDir, terms } from '../tests/support/feed.js';
import { IdempotencyLedger } from './idempotency.js';
import { registerCommandApi } from './routes.js';
import { CommandService } from './service.js';

const opened: Array<{ app: FastifyInstance; store: SqliteEventStore }> = [];
afterEach(async () => {
  for (const { app, store } of opened.splice(0)) {
    await app.close();
    await store.close();
  }
});

async function commandApi(logger = pino({ level: 'silent' })): Promise<{ app: FastifyInstance; store: SqliteEventStore }> {
  const store = SqliteEventStore.open(join(tempDir('kepler-routes-'), 'events.db'));
  const app = await createHttpServer(logger);
  registerCommandApi(app, { commands: new CommandService(store, async () => null), ledger: new IdempotencyLedger(store) });
  await app.ready();
  opened.push({ app, store });
  return { app, store };
}

const capture = (app: FastifyInstance, body: object, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/trades', payload: body, headers });

describe('POST /trades', () => {
  it('refuses a body naming every invalid field: a float price, an unknown field, text with surrounding spaces', async () => {
    const { app, store } = await commandApi();
    const response = await capture(app, { tradeRef: 'T-1', ...terms(), price: 10.5, account: ' ACC', extra: 1 });
    expect(response.statusCode).toBe(400);
    const detail = response.body;
    expect(detail).toContain('price');
    expect(detail).toContain('account');
    expect(detail).toContain('extra');
    expect(await store.headPosition()).toBe(0);
  });

  it('takes any text the patterns allow, characters beyond the BMP included (lengths in code points)', async () => {
    const { app } = await commandApi();
    const created = await capture(app, { tradeRef: 'T-2', ...terms(), account: '😀ACC-1', counterparty: '𝒞𝒫𝒯𝒴 1234567' });
    expect(created.statusCode).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    // 12 code points, 13 UTF-16 units: within maxLength 12 as code points are counted; 13 code points are not.
    expect((await capture(app, { tradeRef: 'T-3', ...terms(), account: '😀BCDEFGHIJKL' })).statusCode).toBe(201);
    expect((await capture(app, { tradeRef: 'T-4', ...terms(), account: '😀BCDEFGHIJKLM' })).statusCode).toBe(400);
    expect((await capture(app, { tradeRef: 'T-5', ...terms(), account: 'ACC\n' })).statusCode).toBe(400);
  });

  it('answers a retry with the same key as it answered first, appending nothing; another body with that key is a 422', async () => {
    const { app, store } = await commandApi();
    const body = { tradeRef: 'T-6', ...terms() };
    const first = await capture(app, body, { 'idempotency-key': 'k-1' });
    expect(first.statusCode).toBe(201);
    const head = await store.headPosition();
    const retry = await capture(app, body, { 'idempotency-key': 'k-1' });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replay']).toBe('true');
    expect(retry.json()).toEqual(first.json());
    expect(await store.headPosition()).toBe(head);
    const other = await capture(app, { ...body, quantity: 7 }, { 'idempotency-key': 'k-1' });
    expect(other.statusCode).toBe(422);
    expect(await store.headPosition()).toBe(head);
    // Without a key, the same capture again is a duplicate.
    expect((await capture(app, body)).statusCode).toBe(409);
  });

  it('writes the command-answered line at debug level, and builds none below it', async () => {
    for (const level of ['debug', 'trace', 'info'] as const) {
      const lines: Array<{ msg?: string; command?: string; outcome?: string; correlation_id?: string; status?: number }> = [];
      const { app } = await commandApi(pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) }));
      expect((await capture(app, { tradeRef: `T-${level}`, ...terms() })).statusCode).toBe(201);
      const answered = lines.filter((line) => line.msg === 'command answered');
      expect(answered).toEqual(level === 'info' ? [] : [expect.objectContaining({ correlation_id: `T-${level}`, command: 'POST /trades', outcome: 'ok', status: 201 })]);
    }
  });
});
