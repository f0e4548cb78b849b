import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from './port.js';
import { GatheredStreamReads } from './stream-reads.js';

const eventOf = (stream: string) => ({ stream }) as unknown as RecordedEvent;

describe('gathered stream reads', () => {
  it('answers the reads of one turn with one read per chunk, each stream once, and a failed chunk fails only its own reads', async () => {
    const asked: string[][] = [];
    const reads = new GatheredStreamReads({
      readMany: (streams) => {
        asked.push(streams);
        if (streams.includes('broken')) throw new Error('statement failed');
        return new Map(streams.filter((s) => s !== 'empty').map((s) => [s, [eventOf(s)]]));
      },
      chunkSize: 2,
      schedule: queueMicrotask,
    });
    const answers = ['a', 'empty', 'a', 'c', 'd', 'broken'].map((s) => reads.read(s).then((events) => events.map((e) => e.stream), (error: Error) => error.message));
    expect(await Promise.all(answers)).toEqual([['a'], [], ['a'], ['c'], ['d'], 'statement failed']);
    expect(asked).toEqual([['a', 'empty'], ['c', 'd'], ['broken']]);
    // A later turn is a new gathering.
    expect((await reads.read('e')).map((e) => e.stream)).toEqual(['e']);
    expect(asked.at(-1)).toEqual(['e']);
  });
});
