import { describe, expect, it } from 'vitest';
import { encodeEvent } from '../eventstore/index.js';
import type { IntakeBatch } from './file-intake.js';
import { packIntakeBatch, unpackIntakeBatch } from './threaded-file-intake.js';

const encoded = (n: number) => encodeEvent({ id: `id-${n}`, type: 'NewTradeReceived', data: { n, text: 'ü"\\' }, metadata: { correlationId: `REF-${n}` } });

describe('intake batches packed as columns for the trip between threads', () => {
  it('unpack gives back the batch that was packed, file boundaries included', () => {
    const batch: IntakeBatch = {
      items: [
        { kind: 'record', append: { stream: 'core-1', expectedRevision: 'no_stream', events: [encoded(1)] } },
        { kind: 'rejection', append: { stream: 'rejected-ab', expectedRevision: 'no_stream', events: [encoded(2)] } },
        { kind: 'exception', append: { stream: 'rejected-cd', expectedRevision: 'no_stream', events: [encoded(3)] } },
        { kind: 'record', append: { stream: 'core-2', expectedRevision: 'no_stream', events: [encoded(4)] } },
      ],
      segments: [
        { file: 0, items: 3, linesRead: 4, summary: { header: null, lines: 2, detailLines: 2, controlTotal: 10n ** 20n, trailer: 'MISSING', trailerDetail: 'none', trailerLine: null } },
        { file: 1, items: 1, linesRead: 2 },
      ],
    };
    expect(unpackIntakeBatch(structuredClone(packIntakeBatch(batch)))).toEqual(batch);
  });

  it('refuses what it could not give back: several events, another expected revision, events not encoded', () => {
    const pack = (append: IntakeBatch['items'][number]['append']) => () => packIntakeBatch({ items: [{ kind: 'record', append }], segments: [{ file: 0, items: 1, linesRead: 1 }] });
    expect(pack({ stream: 's', expectedRevision: 'no_stream', events: [encoded(1), encoded(2)] })).toThrow(/cannot pack/);
    expect(pack({ stream: 's', expectedRevision: 'any', events: [encoded(1)] })).toThrow(/cannot pack/);
    expect(pack({ stream: 's', expectedRevision: 'no_stream', events: [{ id: 'x', type: 'T', data: {}, metadata: { correlationId: 'R' } }] })).toThrow(/cannot pack/);
  });
});
