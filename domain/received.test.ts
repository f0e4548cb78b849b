import { describe, expect, it } from 'vitest';
import { RECEIVED_STREAM_PREFIXES, receivedStream } from './received.js';
import type { Source } from './values.js';

describe('receivedStream', () => {
  it('is the source in lower case and the sequence: the streams the store already holds', () => {
    expect(receivedStream('CORE', 12)).toBe('core-12');
    for (const source of ['CORE', 'ALLOC', 'CUSTODY', 'API'] as const satisfies readonly Source[]) {
      expect(receivedStream(source, 999_999_999_999)).toBe(`${source.toLowerCase()}-999999999999`);
      expect(RECEIVED_STREAM_PREFIXES.some((prefix) => receivedStream(source, 1).startsWith(prefix))).toBe(true);
    }
  });
});
