import { describe, expect, it } from 'vitest';
import { encodeEvent } from '../eventstore/index.js';
import type { IntakeBatch } from './file-intake.js';
import { packIntakeBatch, unpackIntakeBatch } from './threaded-file-intake.js';

const encoded = (n: number) => encodeEvent({ id: `id-${n}`, type: 'NewTradeReceived', data: { n, text: 'ü"\\' }, metadata: { correlationId: `REF-${n}` } });

describe('intake batches packed as columns for the trip between threads', () => {
  it('unpack gives back the batch that was packed', () => {
    const batch: IntakeBatch = {
      linesRead: 3,
      items: [
        { kind: 'record', append: { stream: 'core-1', expectedRevision: 'no_stream', events: [encoded(1)] } },
        { kind: 'rejection', append: { stream: 'rejected-ab', expectedRevision: 'no_stream', events: [encoded(2)] } },
      ],
    };
    expect(unpackIntakeBatch(structuredClone(packIntakeBatch(batch)))).toEqual(batch);
  });

  it('refuses what it could not give back: several events, another expected revision, events not encoded', () => {
    const pack = (append: IntakeBatch['items'][number]['append']) => () => packIntakeBatch({ linesRead: 1, items: [{ kind: 'record', append }] });
    expect(pack({ stream: 's', expectedRevision: 'no_stream', events: [encoded(1), encoded(2)] })).toThrow(/cannot pack/);
    expect(pack({ stream: 's', expectedRevision: 'any', events: [encoded(1)] })).toThrow(/cannot pack/);
    expect(pack({ stream: 's', expectedRevision: 'no_stream', events: [{ id: 'x', type: 'T', data: {}, metadata: { correlationId: 'R' } }] })).toThrow(/cannot pack/);
  });
});
