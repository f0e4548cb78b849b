// Four eyes against the race it was open to: a maker cancels a trade the booking manager books while the
// cancellation is under way. Over HTTP, with authentication on and a real OpenID provider, through the real
// command routes, command service, booking manager and SQLite event store. The race is made certain, not
// hoped for: the store lets the booking land just before the cancellation's append reaches it, after
// everything the request read.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config.js';
import { httpSecurity } from '../../app/security.js';
import { ApprovalService, CommandService, IdempotencyLedger, registerCommandApi } from '../../command-api/index.js';
import { SqliteEventStore, type EventStore } from '../../eventstore/index.js';
import { createHttpServer } from '../../query-api/index.js';
import { bookedByTheBookingManager } from '../support/booking.js';
import { tempDir, terms } from '../support/feed.js';
import { call } from '../support/http.js';
import { AUDIENCE, TestIdentityProvider } from '../support/oidc.js';

const logger = pino({ level: 'silent' });

/** The store, with a booking that lands once, just before the next append to that trade's stream reaches the store. */
class RacingStore {
  private pending: string | null = null;
  readonly store: EventStore;

  constructor(readonly inner: SqliteEventStore) {
    this.store = new Proxy(inner, {
      get: (target, property, receiver) => {
        if (property === 'append' || property === 'appendGuarded') {
          return async (stream: string, ...rest: unknown[]) => {
            const tradeRef = this.pending;
            if (tradeRef !== null && stream === `trade-${tradeRef}`) {
              this.pending = null;
              await bookedByTheBookingManager(target, tradeRef);
            }
            return (target[property] as (...args: unknown[]) => unknown).call(target, stream, ...rest);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  bookBeforeNextAppendTo(tradeRef: string): void {
    this.pending = tradeRef;
  }
}

async function commandServer(store: EventStore, auth: { issuer: string } | null): Promise<{ app: FastifyInstance; url: string }> {
  const env = auth ? { KEPLER_AUTH_ISSUER: auth.issuer, KEPLER_AUTH_AUDIENCE: AUDIENCE, KEPLER_RATE_LIMIT: '0' } : {};
  const config = loadConfig({ dataDir: join(tempDir(), 'data') }, env);
  const app = await createHttpServer(logger, { security: await httpSecurity(config, logger) });
  const commands = new CommandService(store, async () => null);
  registerCommandApi(app, { commands, ledger: new IdempotencyLedger(store), ...(config.auth && { approvals: new ApprovalService(store, commands) }) });
  return { app, url: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

/** Captured, fully allocated and confirmed, but not booked yet: the booking manager has not heard of its version. */
async function aboutToBeBooked(url: string, tradeRef: string, token?: string): Promise<void> {
  const as = (method: string, path: string, body: unknown) => call(url, method, path, { body, ...(token !== undefined && { token }) });
  expect((await as('POST', '/trades', { tradeRef, ...terms() })).status).toBe(201);
  expect((await as('PUT', `/trades/${tradeRef}/allocations/A1`, { account: 'ACC-A', quantity: 1000 })).status).toBe(200);
  expect((await as('POST', `/trades/${tradeRef}/confirmations`, { status: 'AFFIRMED', quantity: 1000, price: '189.25', reason: '' })).status).toBe(201);
}

const types = async (store: EventStore, stream: string) => (await store.readStream(stream)).map((e) => e.type);

describe('four eyes: a booking that lands while a maker cancels', () => {
  let idp: TestIdentityProvider;
  let racing: RacingStore;
  let server: { app: FastifyInstance; url: string };

  beforeAll(async () => {
    idp = await TestIdentityProvider.start([
      { id: 'maker', accounts: ['*'] },
      { id: 'checker', accounts: ['*'] },
    ]);
    racing = new RacingStore(SqliteEventStore.open(join(tempDir('kepler-four-eyes-race-'), 'events.db')));
    server = await commandServer(racing.store, { issuer: idp.issuer });
  });
  afterAll(async () => {
    await server?.app.close();
    await racing?.inner.close();
    await idp?.stop();
  });

  it('waits for a second principal: 202 and an approval request, the trade left booked; the checker’s approval then cancels it', async () => {
    const maker = await idp.token('maker');
    await aboutToBeBooked(server.url, 'RACE-1', maker);
    expect(await types(racing.inner, 'booking-RACE-1')).not.toContain('TradeBooked');

    racing.bookBeforeNextAppendTo('RACE-1');
    const asked = await call<{ approvalId: string; status: string; version: number }>(server.url, 'POST', '/trades/RACE-1/cancellation', {
      token: maker,
      body: { reason: 'wrong counterparty' },
      headers: { 'idempotency-key': 'race-1' },
    });

    // Before: 201, and in the log a booked trade cancelled by one principal.
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ status: 'PENDING', version: 1 });
    expect(await types(racing.inner, 'booking-RACE-1')).toContain('TradeBooked');
    expect(await types(racing.inner, 'trade-RACE-1')).toEqual(['VersionApplied']);

    const approved = await call<{ status: string; outcome: { status: number; body: { version: number } } }>(server.url, 'POST', `/approvals/${asked.body.approvalId}/approval`, {
      token: await idp.token('checker'),
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'CARRIED_OUT', outcome: { status: 201, body: { version: 2 } } });
    const cancelled = (await racing.inner.readStream('trade-RACE-1')).find((e) => e.type === 'TradeCancelled');
    expect(cancelled?.metadata.actor).toMatchObject({ subject: 'maker' });
  });
});

describe('with authentication off: no four eyes, so the same race cancels the trade', () => {
  let racing: RacingStore;
  let server: { app: FastifyInstance; url: string };

  beforeAll(async () => {
    racing = new RacingStore(SqliteEventStore.open(join(tempDir('kepler-no-eyes-race-'), 'events.db')));
    server = await commandServer(racing.store, null);
  });
  afterAll(async () => {
    await server?.app.close();
    await racing?.inner.close();
  });

  it('201: cancelled, booked or not, as before', async () => {
    await aboutToBeBooked(server.url, 'OPEN-1');
    racing.bookBeforeNextAppendTo('OPEN-1');
    const answer = await call<{ version: number }>(server.url, 'POST', '/trades/OPEN-1/cancellation', { body: { reason: 'duplicate' } });
    expect(answer.status).toBe(201);
    expect(answer.body.version).toBe(2);
    expect(await types(racing.inner, 'booking-OPEN-1')).toContain('TradeBooked');
    expect(await types(racing.inner, 'trade-OPEN-1')).toContain('TradeCancelled');
  });
});
