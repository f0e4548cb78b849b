import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventStoreContract } from '../contract.js';
import { SqliteEventStore } from './sqlite-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'kepler-es-'));
eventStoreContract('SQLite', async () => SqliteEventStore.open(join(dir, 'contract.db')));

describe('SQLite event store across connections', () => {
  it('a second connection (as another process would) sees appends and wakes live subscriptions', async () => {
    const path = join(dir, 'shared.db');
    const writer = SqliteEventStore.open(path);
    const reader = SqliteEventStore.open(path);
    const subscription = reader.subscribe(0);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const batch of subscription) {
        seen.push(...batch.events.map((e) => e.type));
        if (seen.length === 2) break;
      }
    })();
    await writer.append('x-1', [{ id: 'a', type: 'One', data: {}, metadata: { correlationId: 'x' } }], 'no_stream');
    await new Promise((r) => setTimeout(r, 30));
    await writer.append('x-1', [{ id: 'b', type: 'Two', data: {}, metadata: { correlationId: 'x' } }], 0);
    await reading;
    await subscription.close();
    expect(seen).toEqual(['One', 'Two']);
    await writer.close();
    await reader.close();
  });

  it('a filtered read passes over only what its own connection just appended, never what another connection appended after it', async () => {
    const path = join(dir, 'own-commits.db');
    const mine = SqliteEventStore.open(path);
    const other = SqliteEventStore.open(path);
    const event = (id: string, type: string) => ({ id, type, data: {}, metadata: { correlationId: 'x' } });
    const wanted = { eventTypes: ['Wanted'] };
    await mine.append('x-1', [event('a', 'Other'), event('b', 'Other')], 'no_stream');
    await other.append('x-2', [event('c', 'Wanted')], 'no_stream');
    // Positions 1–2 are this connection's last commit, with nothing wanted; position 3 is not its own.
    expect(await mine.readAll(0, { filter: wanted })).toMatchObject({ events: [{ id: 'c', position: 3 }], scannedTo: 3, endOfStore: true });
    await mine.append('x-3', [event('d', 'Other'), event('e', 'Wanted')], 'no_stream');
    expect((await mine.readAll(3, { filter: wanted })).events.map((e) => e.id)).toEqual(['e']);
    expect((await mine.readAll(3, { filter: { streamPrefixes: ['x-3'] } })).events.map((e) => e.id)).toEqual(['d', 'e']);
    expect(await mine.readAll(3, { filter: { streamPrefixes: ['y-'] } })).toMatchObject({ events: [], scannedTo: 5, endOfStore: true });
    // A short page from a connection that appended nothing itself.
    expect(await other.readAll(0, { filter: wanted, maxCount: 1 })).toMatchObject({ events: [{ id: 'c' }], scannedTo: 3, endOfStore: false });
    await mine.close();
    await other.close();
  });
});

describe('SQLite event store, JSON given as UTF-8 bytes', () => {
  it('stores the very rows that the same JSON given as strings gives: TEXT, byte for byte', async () => {
    const Database = (await import('better-sqlite3')).default;
    const rows = async (name: string, asBytes: boolean) => {
      const path = join(dir, `${name}.db`);
      const store = SqliteEventStore.open(path);
      const texts = [
        { data: JSON.stringify({ text: 'ünïcødé €😀 "q" \\ \u0001 \ud800' }), metadata: JSON.stringify({ correlationId: 'ß' }) },
        { data: 'null', metadata: '{}' },
      ];
      const utf8 = (text: string) => new TextEncoder().encode(text);
      await store.appendMany(
        texts.map(({ data, metadata }, i) => ({
          stream: `s-${i}`,
          expectedRevision: 'no_stream' as const,
          events: [{ id: `id-${i}`, type: 'T', encoded: asBytes ? { dataUtf8: utf8(data), metadataUtf8: utf8(metadata) } : { data, metadata } }],
        })),
      );
      await store.append('s-0', [{ id: 'id-2', type: 'U', encoded: asBytes ? { dataUtf8: utf8(texts[0]!.data), metadataUtf8: utf8('{}') } : { data: texts[0]!.data, metadata: '{}' } }], 0);
      await store.close();
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare('SELECT stream, revision, id, type, typeof(data) AS dataType, typeof(metadata) AS metadataType, hex(data) AS data, hex(metadata) AS metadata FROM events ORDER BY position').all();
      } finally {
        db.close();
      }
    };
    const fromStrings = await rows('as-strings', false);
    const fromBytes = await rows('as-bytes', true);
    expect(fromBytes).toEqual(fromStrings);
    expect(fromBytes.every((row) => (row as { dataType: string }).dataType === 'text' && (row as { metadataType: string }).metadataType === 'text')).toBe(true);
    expect(fromBytes).toHaveLength(3);
  });
});
