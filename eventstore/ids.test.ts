import { hash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deterministicId } from './ids.js';

describe('deterministicId', () => {
  it('is a version-5-layout UUID with the RFC 4122 variant, the same for the same parts', () => {
    const id = deterministicId('core-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicId('core-1')).toBe(id);
  });

  it('keeps the ids stores already hold: the SHA-1 of the parts joined by U+001F', () => {
    // Fixed values: a change here would give retried writes new ids.
    expect(deterministicId('core-1')).toBe('edf07e2c-0354-5f2b-8109-81609147c006');
    expect(deterministicId('a', 'b', 3)).toBe('85702a3f-ded9-5931-8940-8cde5dbfb8d8');
    expect(deterministicId(42)).toBe(deterministicId('42'));
  });

  it('tells different parts apart, including how they are split', () => {
    const ids = new Set(Array.from({ length: 10_000 }, (_, i) => deterministicId('core', i)));
    expect(ids.size).toBe(10_000);
    expect(deterministicId('ab', 'c')).not.toBe(deterministicId('a', 'bc'));
  });

  it('lays the hash out as it always did, for any parts', () => {
    // The layout as first written (slices of the hex digest), which stored ids were made with.
    const reference = (...parts: Array<string | number>) => {
      const hex = hash('sha1', parts.length === 1 ? String(parts[0]) : parts.join('\u001f'), 'hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${'89ab89ab89ab89ab'[Number.parseInt(hex[16]!, 16)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    };
    const text = (i: number) => `${i.toString(36)}-é-日本-${String.fromCodePoint(0x1f600 + (i % 50))}`;
    for (let i = 0; i < 20_000; i++) {
      const parts = [text(i), 'TradeBooked', i % 7].slice(0, 1 + (i % 3));
      expect(deterministicId(...parts)).toBe(reference(...parts));
    }
  });
});
