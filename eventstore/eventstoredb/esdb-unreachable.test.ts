// The real client against an address where nothing listens: what the adapter
// does when EventStoreDB is down. No server (and no fake one) involved.
import { UnavailableError } from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { isTransientError } from './errors.js';
import { EsdbEventStore } from './index.js';
import { StreamGuardUnsupportedError } from '../port.js';
import { closedPort } from '../../tests/support/servers.js';

describe('EsdbEventStore without a reachable server', () => {
  it('connect() rejects with the client UnavailableError', async () => {
    const port = await closedPort();
    const error = await EsdbEventStore.connect(`esdb://127.0.0.1:${port}?tls=false`, {
      reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
  });

  it('a subscription keeps reconnecting with backoff, reports each attempt, and close() ends the iteration', async () => {
    const port = await closedPort();
    const attempts: Array<{ attempt: number; error: unknown }> = [];
    const store = await EsdbEventStore.connect(`esdb://127.0.0.1:${port}?tls=false`, {
      verifyConnection: false,
      readAttempts: 1,
      reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
      onSubscriptionError: (error, attempt) => attempts.push({ attempt, error }),
    });
    const subscription = store.subscribe(0);
    const next = subscription[Symbol.asyncIterator]().next();
    while (attempts.length < 3) await new Promise((r) => setTimeout(r, 10));
    await subscription.close();
    expect(await next).toEqual({ value: undefined, done: true });
    expect(attempts.map((a) => a.attempt).slice(0, 3)).toEqual([1, 2, 3]);
    expect(attempts[0]!.error).toBeInstanceOf(UnavailableError);
    await store.close();
    expect(() => store.subscribe(0)).toThrow(/closed/);
  });

  it('appends are not retried: the transport error reaches the caller, classified as transient', async () => {
    // The client's append first probes the server's capabilities, and that path rejects with the
    // raw gRPC ServiceError (status 14), not an UnavailableError: classification must use the code.
    const port = await closedPort();
    const store = await EsdbEventStore.connect(`esdb://127.0.0.1:${port}?tls=false`, { verifyConnection: false });
    const append = store.append(
      'core-1',
      [{ id: '8f6b8b1e-5f0e-4d7e-9a53-7f1f4f0c7a11', type: 'T', data: {}, metadata: { correlationId: 'R' } }],
      'no_stream',
    );
    const error = await append.catch((e: unknown) => e);
    expect(error instanceof UnavailableError || (error as { code?: unknown }).code === 14).toBe(true);
    expect(isTransientError(error)).toBe(true);
    await store.close();
  });

  it('a guarded append is refused as unsupported, before anything is sent: never attempted unguarded', async () => {
    // With no server to reach, any attempt to send would fail as unavailable instead.
    const port = await closedPort();
    const store = await EsdbEventStore.connect(`esdb://127.0.0.1:${port}?tls=false`, { verifyConnection: false });
    const event = { id: '2d0e3c4b-1f7a-4b8e-8d2c-5a6b7c8d9e0f', type: 'TradeCancelled', data: {}, metadata: { correlationId: 'R' } };
    const error = await store.appendGuarded('trade-R', [event], 0, { stream: 'booking-R', revision: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamGuardUnsupportedError);
    expect(error).toMatchObject({ guard: { stream: 'booking-R', revision: 3 } });
    expect(isTransientError(error)).toBe(false);
    await store.close();
  });
});
