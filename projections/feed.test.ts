import { describe, expect, it } from 'vitest';
import { RECEIVED_EVENT_TYPE } from '../domain/index.js';
import { pino } from 'pino';
import { SqliteEventStore, UNREAD_METADATA, type RecordedEvent } from '../eventstore/index.js';
import { SqliteReadStore } from '../readstore/index.js';
import { EventFanOut, unionOf } from './fan-out.js';
import type { AnyProjection } from './projection.js';
import { collectionOf, followedFilter, ProjectionRunner } from './runner.js';
import { feedProjection } from './feed.js';
import { PROJECTIONS } from './index.js';

const received = (stream: string, type: string, data: unknown): RecordedEvent => ({
  id: `id-${stream}`,
  type,
  stream,
  revision: 0,
  position: 7,
  data,
  metadata: { correlationId: 'T1' },
  recordedAt: new Date(0),
});

describe('feedProjection', () => {
  it('counts a received record by its stream, without its data (the store leaves it out: withoutData)', () => {
    for (const [stream, type, source] of [
      ['core-1', 'NewTradeReceived', 'CORE'],
      ['alloc-12', 'AllocationReceived', 'ALLOC'],
      ['custody-3', 'ConfirmationReceived', 'CUSTODY'],
    ] as const) {
      const event = received(stream, type, null);
      expect(feedProjection.keysOf(event)).toEqual([`${source}|accepted|`]);
      expect(feedProjection.apply({ source, outcome: 'accepted', reason: '', count: 4, asOf: 3 }, event, `${source}|accepted|`)).toEqual({ source, outcome: 'accepted', reason: '', count: 5, asOf: event.position });
    }
  });

  it('counts nothing, and reads no data, for a received record outside the feed\'s streams (its filter lets none through)', () => {
    expect(feedProjection.keysOf(received('api-1', 'NewTradeReceived', null))).toEqual([]);
  });

  it('is the only projection to take the received records, so the projections thread reads them without their data', () => {
    expect(unionOf(PROJECTIONS.map((p) => p.filter))?.withoutData).toEqual(Object.values(RECEIVED_EVENT_TYPE));
  });

  it('reads no metadata, so the projections thread reads the received records without it; the runners read it all while they trace or log each event', () => {
    expect(unionOf(PROJECTIONS.map((p) => p.filter))?.withoutMetadata).toEqual(Object.values(RECEIVED_EVENT_TYPE));
    const event = { ...received('alloc-12', 'AllocationReceived', null), metadata: UNREAD_METADATA };
    expect(feedProjection.keysOf(event)).toEqual(['ALLOC|accepted|']);
    expect(feedProjection.apply(null, event, 'ALLOC|accepted|')).toEqual({ source: 'ALLOC', outcome: 'accepted', reason: '', count: 1, asOf: event.position });
    const quiet = pino({ level: 'info' });
    expect(unionOf(PROJECTIONS.map((p) => followedFilter(p, quiet)))?.withoutMetadata).toEqual(Object.values(RECEIVED_EVENT_TYPE));
    expect(followedFilter(feedProjection as unknown as AnyProjection, pino({ level: 'debug' })).withoutMetadata).toBeUndefined();
    expect(unionOf(PROJECTIONS.map((p) => followedFilter(p, pino({ level: 'debug' }))))?.withoutMetadata).toBeUndefined();
  });

  it('is read from the store without the received records\' metadata, none of it decoded, and counts the same', async () => {
    const events = SqliteEventStore.open(':memory:');
    const reads = SqliteReadStore.open(':memory:');
    // Appended by another connection would do too; the store's own commit is served the same (sqlite-event-store.test.ts).
    await events.append('core-1', [{ id: 'r1', type: 'NewTradeReceived', data: { n: 1 }, metadata: { correlationId: 'T1', source: 'CORE' } }], 'no_stream');
    await events.append('alloc-1', [{ id: 'r2', type: 'AllocationReceived', data: { n: 2 }, metadata: { correlationId: 'T1', source: 'ALLOC' } }], 'no_stream');
    const seen: RecordedEvent[] = [];
    const projection = { ...feedProjection, keysOf: (event: RecordedEvent) => (seen.push(event), feedProjection.keysOf(event)) } as unknown as AnyProjection;
    const fanOut = new EventFanOut(events, PROJECTIONS.map((p) => p.filter));
    let caughtUp: () => void = () => {};
    const atHead = new Promise<void>((resolve) => (caughtUp = resolve));
    const runner = new ProjectionRunner(events, reads, projection, 1, pino({ level: 'silent' }), (_, atTheHead) => atTheHead && caughtUp(), undefined, fanOut.subscribe);
    const running = runner.run();
    await atHead;
    await runner.stop();
    await fanOut.close();
    await running;
    expect(seen.map((e) => [e.type, e.data, e.metadata])).toEqual([
      ['NewTradeReceived', null, UNREAD_METADATA],
      ['AllocationReceived', null, UNREAD_METADATA],
    ]);
    expect((await reads.get(collectionOf('feed', 1), 'CORE|accepted|'))?.count).toBe(1);
    await reads.close();
    await events.close();
  });
});
