import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { eventStoreContract } from '../contract.js';
import type { NewStreamEvents, RecordedEvent, Subscription } from '../port.js';
import { UNREAD_METADATA } from '../port.js';
import { SqliteEventStore } from './sqlite-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'kepler-es-'));
eventStoreContract('SQLite', async () => SqliteEventStore.open(join(dir, 'contract.db')), { readStreams: true });

/** What a subscription delivers until `count` events have come, each as `pick` names it. */
async function firstEvents(subscription: Subscription, count: number, pick: (event: RecordedEvent) => string): Promise<string[]> {
  const seen: string[] = [];
  for await (const batch of subscription) {
    seen.push(...batch.events.map(pick));
    if (seen.length >= count) break;
  }
  return seen;
}

describe('SQLite event store across connections', () => {
  it('a second connection (as another process would) sees appends and wakes live subscriptions', async () => {
    const path = join(dir, 'shared.db');
    const writer = SqliteEventStore.open(path);
    const reader = SqliteEventStore.open(path);
    const subscription = reader.subscribe(0);
    const reading = firstEvents(subscription, 2, (e) => e.type);
    await writer.append('x-1', [{ id: 'a', type: 'One', data: {}, metadata: { correlationId: 'x' } }], 'no_stream');
    await new Promise((r) => setTimeout(r, 30));
    await writer.append('x-1', [{ id: 'b', type: 'Two', data: {}, metadata: { correlationId: 'x' } }], 0);
    const seen = await reading;
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

describe("SQLite event store, its own commit's rows", () => {
  /** Counts the statements that return rows (every read of events), on every connection. */
  function countingReads(): { count: () => number; restore: () => void } {
    const probe = new Database(':memory:');
    const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as { all: (...args: unknown[]) => unknown[] };
    probe.close();
    const all = proto.all;
    let count = 0;
    proto.all = function (this: unknown, ...args: unknown[]) {
      count++;
      return all.apply(this, args);
    };
    return { count: () => count, restore: () => void (proto.all = all) };
  }

  it("a read right after this connection's commit takes its rows from the commit, as another connection reads them", async () => {
    const path = join(dir, 'own-rows.db');
    const mine = SqliteEventStore.open(path);
    const other = SqliteEventStore.open(path);
    const event = (id: string, type: string, data: unknown = { n: id }) => ({ id, type, data, metadata: { correlationId: 'x', actor: undefined, line: 3 } });
    await mine.append('x-0', [event('z', 'Other')], 'no_stream');
    await Promise.all([
      mine.append('x-1', [event('a', 'Wanted'), event('b', 'Other', { nested: { list: [1, '2', null], text: 'é\u2028' } })], 'no_stream'),
      mine.append('y-1', [event('c', 'Wanted')], 'no_stream'),
      // Refused (x-0 is at revision 0): it writes no row, and the rows after it keep their positions.
      mine.append('x-0', [event('r', 'Wanted')], 'no_stream').catch(() => null),
    ]);
    const reads = countingReads();
    const filters = [undefined, { eventTypes: ['Wanted'] }, { streamPrefixes: ['y-'] }, { eventTypes: ['Wanted'], streamPrefixes: ['x-'] }];
    const pages = [];
    try {
      for (const filter of filters) for (const maxCount of [1, 2, 1000]) pages.push(await mine.readAll(1, { filter, maxCount }));
    } finally {
      reads.restore();
    }
    expect(reads.count()).toBe(0);
    const expected = [];
    for (const filter of filters) for (const maxCount of [1, 2, 1000]) expected.push(await other.readAll(1, { filter, maxCount }));
    expect(pages).toEqual(expected);
    expect(pages[2]!.events.map((e) => e.id)).toEqual(['a', 'b', 'c']);
    await mine.close();
    await other.close();
  });

  it("a follower one commit behind reads the rows of this connection's last commits, and a commit of another connection in between sends it to SQLite", async () => {
    const path = join(dir, 'own-rows-behind.db');
    const mine = SqliteEventStore.open(path);
    const other = SqliteEventStore.open(path);
    const event = (id: string, type: string) => ({ id, type, data: { id }, metadata: { correlationId: 'x' } });
    await mine.append('a-1', [event('a', 'Wanted')], 'no_stream');
    await mine.append('b-1', [event('b', 'Other'), event('c', 'Wanted')], 'no_stream');
    await mine.append('c-1', [event('d', 'Wanted')], 'no_stream');
    const reads = countingReads();
    let pages;
    try {
      pages = [await mine.readAll(0, { filter: { eventTypes: ['Wanted'] } }), await mine.readAll(2, { maxCount: 2 }), await mine.readAll(3)];
    } finally {
      reads.restore();
    }
    expect(reads.count()).toBe(0);
    expect(pages).toEqual([await other.readAll(0, { filter: { eventTypes: ['Wanted'] } }), await other.readAll(2, { maxCount: 2 }), await other.readAll(3)]);
    expect(pages[0]!.events.map((e) => e.id)).toEqual(['a', 'c', 'd']);
    await other.append('d-1', [event('e', 'Wanted')], 'no_stream');
    await mine.append('e-1', [event('f', 'Wanted')], 'no_stream');
    expect((await mine.readAll(3)).events.map((e) => e.id)).toEqual(['d', 'e', 'f']);
    await mine.close();
    await other.close();
  });

  it('a commit of up to 1,000 events is read from its rows, a larger one (a catch-up batch) through SQLite, the same either way', async () => {
    const path = join(dir, 'own-rows-large.db');
    const mine = SqliteEventStore.open(path);
    const other = SqliteEventStore.open(path);
    const events = (count: number, from: number) => Array.from({ length: count }, (_, i) => ({ id: `e${from + i}`, type: 'One', data: { i }, metadata: { correlationId: 'x' } }));
    for (const [count, throughSqlite] of [
      [1000, false],
      [1001, true],
    ] as const) {
      const after = await mine.headPosition();
      await mine.append(`big-${count}`, events(count, after), 'no_stream');
      const reads = countingReads();
      let page;
      try {
        page = await mine.readAll(after, { maxCount: 5000 });
      } finally {
        reads.restore();
      }
      expect(reads.count() > 0).toBe(throughSqlite);
      expect(page).toEqual(await other.readAll(after, { maxCount: 5000 }));
      expect(page.events).toHaveLength(count);
    }
    await mine.close();
    await other.close();
  });

  it('a stream name SQLite cannot store as it is (a lone surrogate) is read back from SQLite, as stored', async () => {
    const path = join(dir, 'own-rows-surrogate.db');
    const mine = SqliteEventStore.open(path);
    const other = SqliteEventStore.open(path);
    await mine.append('x-\ud800', [{ id: 'a', type: 'One', data: {}, metadata: { correlationId: 'x' } }], 'no_stream');
    const [read] = (await mine.readAll(0)).events;
    expect(read).toEqual((await other.readAll(0)).events[0]);
    expect(read!.stream).not.toBe('x-\ud800');
    await mine.close();
    await other.close();
  });
});

describe('SQLite event store, pages read in chunks', () => {
  it('a page larger than a chunk is what one statement would give: the same events, its end where its last event is', async () => {
    const store = SqliteEventStore.open(join(dir, 'chunks.db'));
    // 2,600 events, one wanted in three and a run of unwanted ones in the middle, so that chunks end in both.
    const types = Array.from({ length: 2600 }, (_, i) => (i >= 1200 && i < 1800 ? 'Other' : i % 3 === 0 ? 'Wanted' : 'Other'));
    for (let start = 0; start < types.length; start += 100) {
      await store.appendMany(
        types.slice(start, start + 100).map((type, j) => ({
          stream: `s-${start + j}`,
          expectedRevision: 'no_stream' as const,
          events: [{ id: `e-${start + j}`, type, data: { n: start + j }, metadata: { correlationId: 'x' } }],
        })),
      );
    }
    const head = await store.headPosition();
    for (const filter of [undefined, { eventTypes: ['Wanted'] }, { streamPrefixes: ['s-1'] }]) {
      // What passes, read in pages no larger than a chunk.
      const expected: Array<{ id: string; position: number }> = [];
      for (let after = 0; ; ) {
        const page = await store.readAll(after, { maxCount: 7, filter });
        expected.push(...page.events.map(({ id, position }) => ({ id, position })));
        if (page.endOfStore) break;
        after = page.scannedTo;
      }
      for (const maxCount of [499, 500, 501, 1000, 1001, 1234, 5000]) {
        const seen: Array<{ id: string; position: number }> = [];
        for (let after = 0; ; ) {
          const page = await store.readAll(after, { maxCount, filter });
          const wanted = expected.filter((e) => e.position > after).slice(0, maxCount);
          expect(page.events.map(({ id, position }) => ({ id, position }))).toEqual(wanted);
          const full = wanted.length === maxCount;
          expect({ scannedTo: page.scannedTo, endOfStore: page.endOfStore }).toEqual({ scannedTo: full ? wanted.at(-1)!.position : head, endOfStore: !full });
          seen.push(...page.events.map(({ id, position }) => ({ id, position })));
          if (page.endOfStore) break;
          after = page.scannedTo;
        }
        expect(seen).toEqual(expected);
      }
    }
    await store.close();
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

describe('SQLite event store, appendNewStreams', () => {
  const utf8 = (text: string) => new TextEncoder().encode(text);
  /** The events as NewStreamEvents, their JSON over buffers of `perBuffer` events each. */
  const columns = (events: Array<{ stream: string; id: string; data: string; metadata: string }>, perBuffer: number): NewStreamEvents => {
    const utf8Chunks: Array<{ bytes: Uint8Array; events: number }> = [];
    for (let i = 0; i < events.length; i += perBuffer) {
      const some = events.slice(i, i + perBuffer);
      utf8Chunks.push({ bytes: utf8(some.map((e) => e.data + e.metadata).join('')), events: some.length });
    }
    return {
      count: events.length,
      keys: events.flatMap((e) => [e.stream, e.id, 'T']),
      utf8: utf8Chunks,
      dataBytes: events.map((e) => utf8(e.data).length),
      metadataBytes: events.map((e) => utf8(e.metadata).length),
    };
  };
  const rowsOf = async (path: string) => {
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare('SELECT position, stream, revision, id, type, typeof(data) AS dataType, hex(data) AS data, hex(metadata) AS metadata FROM events ORDER BY position').all();
    } finally {
      db.close();
    }
  };

  it('stores what appendMany stores, and refuses the streams there already or opened earlier in the batch, in full statements and the rest', async () => {
    // 250 events: two statements of 100 rows, then 50 one by one. Streams taken before: 7 and 180; repeated in the batch: 40 (at 41) and 230 (at 231).
    const events = Array.from({ length: 250 }, (_, i) => {
      const n = i === 41 ? 40 : i === 231 ? 230 : i;
      return { stream: `s-${n}`, id: `id-${i}`, data: JSON.stringify({ n: i, text: i % 50 === 3 ? 'ünï €😀' : 'x' }), metadata: JSON.stringify({ correlationId: `c${i}` }) };
    });
    const taken = [7, 180];
    const viaColumns = join(dir, 'new-streams-columns.db');
    const viaAppends = join(dir, 'new-streams-appends.db');
    const expected: number[] = [];
    for (const [path, columnsOn] of [[viaColumns, true], [viaAppends, false]] as const) {
      const store = SqliteEventStore.open(path);
      await store.appendMany(taken.map((n) => ({ stream: `s-${n}`, expectedRevision: 'no_stream' as const, events: [{ id: `before-${n}`, type: 'T', encoded: { data: '{}', metadata: '{}' } }] })));
      if (columnsOn) {
        expect(await store.appendNewStreams(columns(events, 37))).toEqual([7, 41, 180, 231]);
      } else {
        const outcomes = await store.appendMany(events.map((e) => ({ stream: e.stream, expectedRevision: 'no_stream' as const, events: [{ id: e.id, type: 'T', encoded: { dataUtf8: utf8(e.data), metadataUtf8: utf8(e.metadata) } }] })));
        outcomes.forEach((o, i) => o.ok || expected.push(i));
      }
      await store.close();
    }
    expect(expected).toEqual([7, 41, 180, 231]);
    const rows = await rowsOf(viaColumns);
    expect(rows).toEqual(await rowsOf(viaAppends));
    expect(rows).toHaveLength(2 + 246);
    expect(rows.map((r) => (r as { position: number }).position)).toEqual(Array.from({ length: 248 }, (_, i) => i + 1));
  });

  it('refuses every event of a batch written again, and wakes a subscription with what it wrote', async () => {
    const store = SqliteEventStore.open(join(dir, 'new-streams-again.db'));
    const events = Array.from({ length: 120 }, (_, i) => ({ stream: `a-${i}`, id: `id-${i}`, data: '{}', metadata: '{}' }));
    const subscription = store.subscribe(0);
    const reading = firstEvents(subscription, 120, (e) => e.id);
    expect(await store.appendNewStreams(columns(events, 120))).toEqual([]);
    const seen = await reading;
    await subscription.close();
    expect(seen).toEqual(events.map((e) => e.id));
    expect(await store.appendNewStreams(columns(events, 50))).toEqual(events.map((_, i) => i));
    expect(await store.headPosition()).toBe(120);
    await expect(store.appendNewStreams({ ...columns(events, 50), count: 121 })).rejects.toThrow(/shorter than 121/);
    await store.close();
  });

  it('fails the whole batch on a missing value, in a full statement or alone, rather than report its stream as there already', async () => {
    const store = SqliteEventStore.open(join(dir, 'new-streams-missing.db'));
    const events = Array.from({ length: 150 }, (_, i) => ({ stream: `m-${i}`, id: `id-${i}`, data: '{}', metadata: '{}' }));
    for (const missing of [42, 120]) {
      const batch = columns(events, 150);
      const keys = [...batch.keys] as Array<string | undefined>;
      keys[3 * missing + 1] = undefined; // an id lost on the way: NULL to SQLite
      await expect(store.appendNewStreams({ ...batch, keys: keys as string[] })).rejects.toThrow(/NOT NULL/);
      expect(await store.headPosition()).toBe(0);
    }
    await expect(store.appendMany([{ stream: 'm-alone', expectedRevision: 'no_stream', events: [{ id: undefined as unknown as string, type: 'T', encoded: { data: '{}', metadata: '{}' } }] }])).rejects.toThrow(/NOT NULL/);
    expect(await store.headPosition()).toBe(0);
    await store.close();
  });
});

describe('SQLite event store, commitQueued', () => {
  it('says a group commit is queued from the first append of a turn until the commit has run', async () => {
    const store = SqliteEventStore.open(join(dir, 'commit-queued.db'));
    expect(store.commitQueued()).toBe(false);
    const appended = store.append('s-1', [{ id: 'e-1', type: 'T', data: {}, metadata: { correlationId: 'c-1' } }], 'no_stream');
    expect(store.commitQueued()).toBe(true);
    await appended;
    expect(store.commitQueued()).toBe(false);
    await store.close();
  });
});

describe('SQLite event store, events read without their data', () => {
  it('hands the types a filter reads withoutData with data null, the rest decoded, whether read through SQL or from its own commit', async () => {
    const path = join(dir, 'without-data.db');
    const mine = SqliteEventStore.open(path);
    const other = SqliteEventStore.open(path);
    const event = (id: string, type: string) => ({ id, type, data: { n: id }, metadata: { correlationId: id } });
    await mine.append('x-1', [event('a', 'Counted'), event('b', 'Read'), event('c', "It's")], 'no_stream');
    const filters = [
      { withoutData: ['Counted', "It's"] },
      { eventTypes: ['Counted', 'Read', "It's"], withoutData: ['Counted', "It's"] },
      { streamPrefixes: ['x-'], withoutData: ['Counted', "It's"] },
    ];
    for (const filter of filters) {
      for (const store of [mine, other]) {
        const { events } = await store.readAll(0, { filter });
        expect(events.map((e) => [e.type, e.data, e.metadata.correlationId]), JSON.stringify(filter)).toEqual([
          ['Counted', null, 'a'],
          ['Read', { n: 'b' }, 'b'],
          ["It's", null, 'c'],
        ]);
      }
    }
    // Without it, the same events with their data.
    expect((await other.readAll(0, { filter: { eventTypes: ['Counted'] } })).events[0]!.data).toEqual({ n: 'a' });
    await mine.close();
    await other.close();
  });
});

describe('SQLite event store, events read without their metadata', () => {
  it('hands the types a filter reads withoutMetadata with UNREAD_METADATA, the rest decoded, whether read through SQL or from its own commit', async () => {
    const path = join(dir, 'without-metadata.db');
    const mine = SqliteEventStore.open(path);
    const other = SqliteEventStore.open(path);
    const event = (id: string, type: string) => ({ id, type, data: { n: id }, metadata: { correlationId: id, traceparent: `tp-${id}` } });
    await mine.append('x-1', [event('a', 'Counted'), event('b', 'Read'), event('c', "It's")], 'no_stream');
    const filters = [
      { withoutMetadata: ['Counted', "It's"] },
      { eventTypes: ['Counted', 'Read', "It's"], withoutMetadata: ['Counted', "It's"] },
      { streamPrefixes: ['x-'], withoutMetadata: ['Counted', "It's"] },
      { streamPrefixes: ['x-'], withoutData: ['Counted'], withoutMetadata: ['Counted', "It's"] },
    ];
    for (const filter of filters) {
      for (const store of [mine, other]) {
        const { events } = await store.readAll(0, { filter });
        const label = `${JSON.stringify(filter)} ${store === mine ? 'own commit' : 'SQL'}`;
        expect(events.map((e) => [e.type, e.data === null ? null : e.id, e.metadata]), label).toEqual([
          ['Counted', 'withoutData' in filter ? null : 'a', UNREAD_METADATA],
          ['Read', 'b', { correlationId: 'b', traceparent: 'tp-b' }],
          ["It's", 'c', UNREAD_METADATA],
        ]);
        // The one object, not decoded: nothing was parsed for it.
        expect(events[0]!.metadata).toBe(UNREAD_METADATA);
      }
    }
    // Without it, the same events with their metadata.
    expect((await other.readAll(0, { filter: { eventTypes: ['Counted'] } })).events[0]!.metadata).toEqual({ correlationId: 'a', traceparent: 'tp-a' });
    await mine.close();
    await other.close();
  });
});

describe('SQLite event store recordedAt', () => {
  it('hands the events of one commit one recordedAt, and another commit its own', async () => {
    const store = SqliteEventStore.open(join(dir, 'recorded-at.db'));
    const event = (id: string) => ({ id, type: 'One', data: {}, metadata: { correlationId: 'x' } });
    await store.append('x-1', [event('a'), event('b'), event('c')], 'no_stream');
    await new Promise((r) => setTimeout(r, 5));
    await store.append('x-2', [event('d')], 'no_stream');
    const [a, b, c, d] = (await store.readAll(0)).events;
    expect(b!.recordedAt).toBe(a!.recordedAt);
    expect(c!.recordedAt).toBe(a!.recordedAt);
    expect(d!.recordedAt).not.toBe(a!.recordedAt);
    expect(d!.recordedAt.getTime()).toBeGreaterThan(a!.recordedAt.getTime());
    const [ownA, ownB] = await store.readStream('x-1');
    expect(ownB!.recordedAt).toBe(ownA!.recordedAt);
    await store.close();
  });
});

describe('SQLite event store readStreams', () => {
  it('reads whole streams at once, with no promise a stream', async () => {
    const store = SqliteEventStore.open(join(dir, 'read-streams.db'));
    await store.append('s-1', [{ id: 'a', type: 'One', data: { n: 1 }, metadata: { correlationId: 's' } }], 'no_stream');
    const read = await store.readStreams!(['s-1', 's-2']);
    expect([...read.keys()]).toEqual(['s-1']);
    expect(read.get('s-1')).toEqual(await store.readStream('s-1'));
    // One stream alone, as a batch with one unseen stream asks: absent when it has none, as in a statement for many.
    expect([...(await store.readStreams!(['s-2'])).keys()]).toEqual([]);
    expect([...(await store.readStreams!(['s-1'])).keys()]).toEqual(['s-1']);
    await store.close();
  });
});

describe('SQLite event store, metadata shared by the events of an append', () => {
  it('encodes a metadata object once for the run of events carrying it, and afresh in a later commit after it changed', async () => {
    const store = SqliteEventStore.open(join(dir, 'shared-metadata.db'));
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      const metadata = { correlationId: 'm', causationId: 'c', source: 'CORE', line: 1 };
      const other = { correlationId: 'n' };
      await store.append('m-1', [{ id: 'a', type: 'One', data: { n: 1 }, metadata: other }, { id: 'b', type: 'Two', data: { n: 2 }, metadata }, { id: 'c', type: 'Three', data: { n: 3 }, metadata }], 'no_stream');
      // Three data, two metadata: the third event's metadata is the second's text.
      expect(stringify).toHaveBeenCalledTimes(5);
      metadata.line = 2;
      await store.append('m-1', [{ id: 'd', type: 'Four', data: { n: 4 }, metadata }], 2);
      const raw = new Database(join(dir, 'shared-metadata.db'), { readonly: true });
      const stored = raw.prepare('SELECT metadata FROM events WHERE stream = ? ORDER BY revision').pluck().all('m-1');
      raw.close();
      expect(stored).toEqual([
        '{"correlationId":"n"}',
        '{"correlationId":"m","causationId":"c","source":"CORE","line":1}',
        '{"correlationId":"m","causationId":"c","source":"CORE","line":1}',
        '{"correlationId":"m","causationId":"c","source":"CORE","line":2}',
      ]);
    } finally {
      stringify.mockRestore();
      await store.close();
    }
  });
});
