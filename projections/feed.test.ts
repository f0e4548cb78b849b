import { describe, expect, it } from 'vitest';
import { RECEIVED_EVENT_TYPE } from '../domain/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import { unionOf } from './fan-out.js';
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
});
