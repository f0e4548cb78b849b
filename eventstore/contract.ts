// The behaviour every EventStore adapter must have. Each adapter's test file
// calls eventStoreContract with a way to open a store; stream names are unique
// per run so the suite also works against a long-lived server.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventData, EventStore, RecordedEvent } from './port.js';
import { decodeEvent, encodedText, encodeEvent, isEncoded, passesFilter, StreamGuardUnsupportedError, UNREAD_METADATA, WrongExpectedRevisionError, type EncodedEventData } from './port.js';

export interface ContractOptions {
  /**
   * Whether the adapter implements the port's optional readStreams. Declared by each adapter rather than
   * read off the store, so that an adapter that claims it fails the suite if the method goes missing, and
   * one that does not shows the readStreams case as skipped rather than passed.
   */
  readStreams: boolean;
  /**
   * Whether the store holds appendGuarded's condition atomically (SQLite, PostgreSQL). A store that
   * cannot (EventStoreDB) must refuse every guarded append, writing nothing: the suite checks that instead.
   */
  streamGuards?: boolean;
}

export function eventStoreContract(name: string, open: () => Promise<EventStore>, { readStreams, streamGuards = true }: ContractOptions): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    const run = randomUUID().slice(0, 8);
    const stream = (label: string) => `contract${run}-${label}`;
    const event = (type: string, data: Record<string, unknown> = {}, correlationId = 'REF-1'): EventData => ({
      id: randomUUID(),
      type,
      data,
      metadata: { correlationId, source: 'CORE', sourceSequence: 7, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', actor: { subject: 'alice', clientId: 'desk-ui', name: 'Alice' } },
    });

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('appends to a new stream and reads it back with data and metadata intact', async () => {
      const s = stream('roundtrip');
      const first = event('Created', { price: '123.45', quantity: 10, nested: { list: [1, 'two'] }, text: 'ünïcødé / ok' });
      const outcome = await store.append(s, [first, event('Changed')], 'no_stream');
      expect(outcome.nextRevision).toBe(1);
      const events = await store.readStream(s);
      expect(events.map((e) => e.type)).toEqual(['Created', 'Changed']);
      expect(events.map((e) => e.revision)).toEqual([0, 1]);
      expect(events[0]!.id).toBe(first.id);
      expect(events[0]!.data).toEqual(first.data);
      expect(events[0]!.metadata).toMatchObject(first.metadata);
      expect(events[0]!.stream).toBe(s);
      expect(events[0]!.recordedAt).toBeInstanceOf(Date);
      expect(events[1]!.position).toBeGreaterThan(events[0]!.position);
      expect(outcome.position).toBe(events[1]!.position);
    });

    it('takes events already encoded as JSON text and reads them back as values', async () => {
      const s = stream('encoded');
      const values = event('Created', { price: '0.00000001', text: 'ünïcødé' });
      const encoded = encodeEvent(values);
      expect(isEncoded(encoded)).toBe(true);
      // Encoded and plain events may share an append, on the no_stream fast path and after it.
      await store.appendMany([{ stream: s, expectedRevision: 'no_stream', events: [encoded, event('Changed', { n: 2 })] }]);
      await store.append(s, [encodeEvent(event('Closed', { n: 3 }))], 1);
      const events = await store.readStream(s);
      expect(events.map((e) => e.type)).toEqual(['Created', 'Changed', 'Closed']);
      expect(events[0]!.id).toBe(values.id);
      expect(events[0]!.data).toEqual(values.data);
      expect(events[0]!.metadata).toMatchObject(values.metadata);
      expect(events[2]!.data).toEqual({ n: 3 });
      expect(decodeEvent(encoded)).toEqual(values);
    });

    it('takes events encoded as UTF-8 bytes and stores the same text as from strings', async () => {
      const s = stream('utf8');
      const values = event('Created', { price: '0.00000001', text: 'ünïcødé €😀 "quoted" \\' });
      const bytes = (text: string) => new TextEncoder().encode(` ${text} `).subarray(1, -1);
      const { encoded } = encodeEvent(values);
      const text = encodedText(encoded);
      // Views into larger buffers, as the intake thread hands them over.
      const utf8: EncodedEventData = { id: values.id, type: values.type, encoded: { dataUtf8: bytes(text.data), metadataUtf8: bytes(text.metadata) } };
      const next = event('Changed', { n: 2 });
      const nextText = encodedText(encodeEvent(next).encoded);
      await store.appendMany([{ stream: s, expectedRevision: 'no_stream', events: [utf8, { id: next.id, type: next.type, encoded: { dataUtf8: bytes(nextText.data), metadataUtf8: bytes(nextText.metadata) } }] }]);
      const [outcome] = await store.appendMany([{ stream: s, expectedRevision: 'no_stream', events: [utf8] }]);
      expect(outcome!.ok).toBe(false);
      const events = await store.readStream(s);
      expect(events.map((e) => e.type)).toEqual(['Created', 'Changed']);
      expect(events[0]!.data).toEqual(values.data);
      expect(events[0]!.metadata).toMatchObject(values.metadata);
      expect(events[1]!.data).toEqual({ n: 2 });
      expect(decodeEvent(utf8)).toEqual(values);
    });

    it(`has readStreams exactly when the adapter says it does (${readStreams ? 'it does' : 'it does not'})`, () => {
      expect(typeof store.readStreams === 'function').toBe(readStreams);
    });

    it.skipIf(!readStreams)('reads many whole streams at once, each as readStream gives it (readStreams)', async () => {
      expect(store.readStreams).toBeTypeOf('function');
      // More streams than one statement or query takes, a name twice, streams with none.
      const names = Array.from({ length: 2300 }, (_, i) => stream(`many-at-once-${i}`));
      const stored = names.filter((_, i) => i % 97 === 0);
      for (const [k, s] of stored.entries()) await store.append(s, Array.from({ length: 1 + (k % 3) }, (_, n) => event(`E${n}`, { k })), 'no_stream');
      const asked = [...names, names[0]!, stream('many-at-once-missing')];
      const read = await store.readStreams!(asked);
      expect([...read.keys()].sort()).toEqual([...stored].sort());
      for (const s of stored) expect(read.get(s)).toEqual(await store.readStream(s));
    });

    it('reads a missing stream as empty', async () => {
      expect(await store.readStream(stream('missing'))).toEqual([]);
    });

    it('reads many whole streams asked for in one turn, each as if read alone', async () => {
      // As a processor loads the unseen streams of a batch: an adapter may read them together.
      const names = Array.from({ length: 230 }, (_, i) => stream(`turn-${i}`));
      for (const [i, s] of names.entries()) if (i % 7 === 0) await store.append(s, Array.from({ length: 1 + (i % 3) }, (_, n) => event(`E${n}`, { i })), 'no_stream');
      const asked = [...names, names[0]!, stream('turn-missing'), names[7]!];
      const reads = await Promise.all(asked.map((s) => store.readStream(s)));
      reads.forEach((events, k) => {
        const i = names.indexOf(asked[k]!);
        expect(events.map((e) => [e.stream, e.revision, e.type, (e.data as { i: number }).i])).toEqual(
          i >= 0 && i % 7 === 0 ? Array.from({ length: 1 + (i % 3) }, (_, n) => [asked[k], n, `E${n}`, i]) : [],
        );
      });
      // A read from a revision, or of a count, in the same turn as whole ones.
      const [page, whole] = await Promise.all([store.readStream(names[14]!, { fromRevision: 1, maxCount: 1 }), store.readStream(names[14]!)]);
      expect(page.map((e) => e.revision)).toEqual([1]);
      expect(whole.map((e) => e.revision)).toEqual([0, 1, 2]);
    });

    it('enforces no_stream, exact and any expected revisions', async () => {
      const s = stream('concurrency');
      await store.append(s, [event('A')], 'no_stream');
      await expect(store.append(s, [event('B')], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await expect(store.append(s, [event('B')], 5)).rejects.toMatchObject({ actual: 0 });
      await store.append(s, [event('B')], 0);
      await store.append(s, [event('C')], 'any');
      await expect(store.append(stream('never'), [event('X')], 0)).rejects.toMatchObject({ actual: 'no_stream' });
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
    });

    it('reads a stream from a revision with a maximum count', async () => {
      const s = stream('paging');
      await store.append(s, ['A', 'B', 'C', 'D'].map((t) => event(t)), 'no_stream');
      const page = await store.readStream(s, { fromRevision: 1, maxCount: 2 });
      expect(page.map((e) => e.type)).toEqual(['B', 'C']);
    });

    it('appendMany reports each append on its own and writes the others', async () => {
      const taken = stream('many-taken');
      await store.append(taken, [event('First')], 'no_stream');
      const outcomes = await store.appendMany([
        { stream: stream('many-a'), expectedRevision: 'no_stream', events: [event('A')] },
        { stream: taken, expectedRevision: 'no_stream', events: [event('Duplicate')] },
        { stream: stream('many-b'), expectedRevision: 'no_stream', events: [event('B'), event('B2')] },
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
      expect(outcomes[1]).toEqual({ ok: false, actualRevision: 0 });
      expect((await store.readStream(taken)).map((e) => e.type)).toEqual(['First']);
      expect((await store.readStream(stream('many-b'))).map((e) => e.type)).toEqual(['B', 'B2']);
    });

    it('stores a checkpoint with appendMany only when every append succeeded', async () => {
      const name = `contract${run}-cp`;
      await store.appendMany([{ stream: stream('cp-1'), expectedRevision: 'no_stream', events: [event('A')] }], {
        checkpoint: { name, position: 11 },
      });
      expect(await store.readCheckpoint(name)).toBe(11);
      await store.appendMany([{ stream: stream('cp-1'), expectedRevision: 'no_stream', events: [event('A')] }], {
        checkpoint: { name, position: 12 },
      });
      expect(await store.readCheckpoint(name)).toBe(11);
      await store.writeCheckpoint({ name, position: 13 });
      expect(await store.readCheckpoint(name)).toBe(13);
      expect(await store.readCheckpoint(`contract${run}-none`)).toBeNull();
    });

    it('writes of one checkpoint issued together all commit, the last one issued standing', async () => {
      // Issued in one turn, they may share a group commit: one name written twice in one statement
      // must neither fail the group (the other callers' appends with it) nor let an earlier one win.
      const name = `contract${run}-cp-together`;
      const taken = stream('cp-together-taken');
      await store.append(taken, [event('First')], 'no_stream');
      const outcomes = await Promise.all([
        store.appendMany([{ stream: stream('cp-together-1'), expectedRevision: 'no_stream', events: [event('A')] }], { checkpoint: { name, position: 21 } }),
        store.writeCheckpoint({ name, position: 22 }).then(() => []),
        store.appendMany([{ stream: stream('cp-together-2'), expectedRevision: 'no_stream', events: [event('B')] }], { checkpoint: { name, position: 23 } }),
        store.appendMany([{ stream: taken, expectedRevision: 'no_stream', events: [event('Refused')] }], { checkpoint: { name, position: 99 } }),
      ]);
      expect(outcomes.map((o) => o.map((each) => each.ok))).toEqual([[true], [], [true], [false]]);
      expect(await store.readCheckpoint(name)).toBe(23);
    });

    it('reads everything after a position in global order, with filters that still advance the scan', async () => {
      const before = await store.headPosition();
      const s1 = stream('all1');
      const s2 = `other${run}-all2`;
      await store.append(s1, [event('Kept', { n: 1 })], 'no_stream');
      await store.append(s2, [event('Skipped', { n: 2 })], 'no_stream');
      await store.append(s1, [event('Kept', { n: 3 })], 0);
      const head = await store.headPosition();
      expect(head).toBeGreaterThan(before);

      const all = await collectAll(store, before);
      const mine = all.filter((e) => e.stream === s1 || e.stream === s2);
      expect(mine.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3]);
      expect(isAscending(all.map((e) => e.position))).toBe(true);

      const byType = await store.readAll(before, { filter: { eventTypes: ['Kept'] }, maxCount: 1000 });
      expect(byType.events.every((e) => e.type === 'Kept')).toBe(true);
      expect(byType.events.filter((e) => e.stream === s1)).toHaveLength(2);
      expect(byType.scannedTo).toBeGreaterThanOrEqual(head);
      expect(byType.endOfStore).toBe(true);

      const byPrefix = await store.readAll(before, { filter: { streamPrefixes: [`other${run}-`] } });
      expect(byPrefix.events.map((e) => e.stream)).toEqual([s2]);
    });

    it('pages through readAll with maxCount without losing or repeating events', async () => {
      const s = stream('pages');
      const before = await store.headPosition();
      await store.append(s, Array.from({ length: 25 }, (_, n) => event('Page', { n })), 'no_stream');
      const seen: number[] = [];
      let position = before;
      for (;;) {
        const page = await store.readAll(position, { maxCount: 7 });
        seen.push(...page.events.filter((e) => e.stream === s).map((e) => (e.data as { n: number }).n));
        position = page.scannedTo;
        if (page.endOfStore) break;
      }
      expect(seen).toEqual(Array.from({ length: 25 }, (_, n) => n));
    });

    it('pages through readAll by stream prefix, with types, matching prefixes exactly', async () => {
      // Characters that are wildcards in SQL LIKE and GLOB patterns must match only themselves.
      const prefix = `pfx${run}%_*-`;
      const before = await store.headPosition();
      await store.append(`${prefix}a`, Array.from({ length: 9 }, (_, n) => event(n % 3 === 0 ? 'Other' : 'Page', { n })), 'no_stream');
      await store.append(`pfx${run}XY-a`, [event('Page', { n: 100 })], 'no_stream');
      await store.append(`PFX${run}%_*-a`, [event('Page', { n: 101 })], 'no_stream');
      const collect = async (filter: { eventTypes?: string[]; streamPrefixes: string[] }) => {
        const seen: number[] = [];
        let position = before;
        for (;;) {
          const page = await store.readAll(position, { maxCount: 2, filter });
          expect(page.scannedTo).toBeGreaterThanOrEqual(position);
          seen.push(...page.events.map((e) => (e.data as { n: number }).n));
          position = page.scannedTo;
          if (page.endOfStore) break;
        }
        return seen;
      };
      expect(await collect({ streamPrefixes: [prefix] })).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await collect({ streamPrefixes: [`nothing${run}-`, prefix], eventTypes: ['Page'] })).toEqual([1, 2, 4, 5, 7, 8]);
    });

    it('filters as passesFilter says, so that one unfiltered read can serve several filters', async () => {
      const before = await store.headPosition();
      const prefix = `fan${run}%_-`;
      await store.append(`${prefix}a`, [event('Wanted', { n: 0 }), event('Unwanted', { n: 1 })], 'no_stream');
      await store.append(`FAN${run}%_-a`, [event('Wanted', { n: 2 })], 'no_stream');
      await store.append(`fan${run}XY-a`, [event('Wanted', { n: 3 })], 'no_stream');
      await store.append(stream('fan'), [event('Wanted', { n: 4 }), event('Other', { n: 5 })], 'no_stream');
      // Up to a head taken once: a long-lived server may take other appends meanwhile.
      const head = await store.headPosition();
      const upToHead = (events: RecordedEvent[]) => events.filter((e) => e.position <= head);
      const everything = upToHead((await store.readAll(before, { maxCount: 1000 })).events);
      expect(everything.length).toBeGreaterThanOrEqual(6);
      const filters = [
        { eventTypes: ['Wanted'] },
        { eventTypes: ['Wanted', 'Other'] },
        { eventTypes: [] },
        { streamPrefixes: [prefix] },
        { streamPrefixes: [prefix, `fan${run}X`] },
        { streamPrefixes: [] },
        { eventTypes: ['Wanted'], streamPrefixes: [prefix, stream('')] },
      ];
      for (const filter of filters) {
        const read = upToHead((await store.readAll(before, { maxCount: 1000, filter })).events).map((e) => e.position);
        expect(read, JSON.stringify(filter)).toEqual(everything.filter((e) => passesFilter(filter, e)).map((e) => e.position));
      }
      // The filter is not vacuous: each of these kept some events and dropped others.
      expect(everything.filter((e) => passesFilter({ eventTypes: ['Wanted'], streamPrefixes: [prefix] }, e)).map((e) => (e.data as { n: number }).n)).toEqual([0]);
    });

    it('reads the same events with withoutData and withoutMetadata, the parts they name of those types as stored or left out (null, UNREAD_METADATA)', async () => {
      const s = stream('without');
      const before = await store.headPosition();
      const appended = [event('Counted', { n: 0 }, 'REF-W0'), event('Read', { n: 1 }, 'REF-W1'), event('Counted', { n: 2 }, 'REF-W2'), event('Decoded', { n: 3 }, 'REF-W3')];
      await store.append(s, appended, 'no_stream');
      const stored = (await store.readAll(before, { maxCount: 1000, filter: { streamPrefixes: [s] } })).events;
      expect(stored.map((e) => e.id)).toEqual(appended.map((e) => e.id));
      const hints = [
        { withoutData: ['Counted', 'Absent'] },
        { withoutMetadata: ['Counted', 'Absent'] },
        { withoutData: ['Counted'], withoutMetadata: ['Counted', 'Read'] },
        { withoutData: [], withoutMetadata: [] },
      ];
      for (const hint of hints) {
        for (const filter of [{ streamPrefixes: [s], ...hint }, { eventTypes: ['Counted', 'Read', 'Decoded'], ...hint }]) {
          const read = (await store.readAll(before, { maxCount: 1000, filter })).events.filter((e) => e.stream === s);
          const subscription = store.subscribe(before, { filter, batchSize: 1000 });
          const followed: RecordedEvent[] = [];
          for await (const batch of subscription) {
            followed.push(...batch.events.filter((e) => e.stream === s));
            if (followed.length >= appended.length) break;
          }
          await subscription.close();
          for (const events of [read, followed]) {
            const label = JSON.stringify(filter);
            // Which events come, and everything but the parts named, is as without the hints.
            expect(events.map(({ id, type, stream, revision, position }) => ({ id, type, stream, revision, position })), label).toEqual(
              stored.map(({ id, type, stream, revision, position }) => ({ id, type, stream, revision, position })),
            );
            events.forEach((e, i) => {
              const noData = hint.withoutData?.includes(e.type) ?? false;
              const noMetadata = hint.withoutMetadata?.includes(e.type) ?? false;
              if (!noData || e.data !== null) expect(e.data, label).toEqual(appended[i]!.data);
              if (!noMetadata || e.metadata !== UNREAD_METADATA) expect(e.metadata, label).toMatchObject(appended[i]!.metadata);
              expect(e.recordedAt, label).toEqual(stored[i]!.recordedAt);
            });
          }
        }
      }
      expect(UNREAD_METADATA.traceparent).toBeUndefined();
      expect(Object.isFrozen(UNREAD_METADATA)).toBe(true);
    });

    it('subscribes: catches up, then delivers live appends in order', async () => {
      const s = stream('live');
      const before = await store.headPosition();
      await store.append(s, [event('Live', { n: 0 })], 'no_stream');
      const subscription = store.subscribe(before, { filter: { streamPrefixes: [s] }, batchSize: 10 });
      const received: number[] = [];
      let sawCaughtUp = false;
      const reading = (async () => {
        for await (const batch of subscription) {
          received.push(...batch.events.map((e) => (e.data as { n: number }).n));
          if (batch.caughtUp) sawCaughtUp = true;
          if (received.length >= 5) break;
        }
      })();
      for (let n = 1; n < 5; n++) {
        await new Promise((r) => setTimeout(r, 20));
        await store.append(s, [event('Live', { n })], n - 1);
      }
      await withTimeout(reading, 10_000);
      await subscription.close();
      expect(received).toEqual([0, 1, 2, 3, 4]);
      expect(sawCaughtUp).toBe(true);
    });

    it.runIf(streamGuards)('appends provided the guard stream has not moved; refuses naming the guard stream when it has, writing nothing', async () => {
      const s = stream('guarded');
      const g = stream('guard');
      // A guard stream that does not exist yet is at no_stream.
      const first = await store.appendGuarded(s, [event('A')], 'no_stream', { stream: g, revision: 'no_stream' });
      expect(first.nextRevision).toBe(0);
      await store.append(g, [event('G0')], 'no_stream');
      const moved = await store.appendGuarded(s, [event('B')], 0, { stream: g, revision: 'no_stream' }).catch((e: unknown) => e);
      expect(moved).toBeInstanceOf(WrongExpectedRevisionError);
      expect(moved).toMatchObject({ stream: g, expected: 'no_stream', actual: 0 });
      const b = await store.appendGuarded(s, [event('B'), event('C')], 0, { stream: g, revision: 0 });
      expect(b.nextRevision).toBe(2);
      // The append's own expected revision still holds, and names its own stream.
      await expect(store.appendGuarded(s, [event('X')], 0, { stream: g, revision: 0 })).rejects.toMatchObject({ stream: s, expected: 0, actual: 2 });
      await store.append(g, [event('G1')], 0);
      await expect(store.appendGuarded(s, [event('X')], 2, { stream: g, revision: 0 })).rejects.toMatchObject({ stream: g, expected: 0, actual: 1 });
      // The guard is checked first: both moved, the guard stream is named.
      await expect(store.appendGuarded(s, [event('X')], 0, { stream: g, revision: 0 })).rejects.toMatchObject({ stream: g });
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
      expect((await store.readStream(g)).map((e) => e.type)).toEqual(['G0', 'G1']);
      expect(b.position).toBe((await store.readStream(s)).at(-1)!.position);
    });

    it.runIf(streamGuards)('a guarded append racing an append to its guard stream from another connection commits only before it', async () => {
      // Two connections, as two processes: the guard must be held by the store, not by this one's queue.
      const other = await open();
      try {
        for (let round = 0; round < 12; round++) {
          const s = stream(`guard-race-${round}`);
          const g = stream(`guard-race-guard-${round}`);
          await store.append(g, [event('G0')], 'no_stream');
          // Each sent first in turn, from either connection.
          const guard = () => (round % 2 === 0 ? store : other).appendGuarded(s, [event('Guarded')], 'no_stream', { stream: g, revision: 0 });
          const move = () => (round % 2 === 0 ? other : store).append(g, [event('G1')], 0);
          let guarded: PromiseSettledResult<Awaited<ReturnType<typeof guard>>>;
          let moved: PromiseSettledResult<unknown>;
          if (round % 4 < 2) [guarded, moved] = await Promise.allSettled([guard(), move()]);
          else [moved, guarded] = await Promise.allSettled([move(), guard()]);
          expect(moved.status).toBe('fulfilled');
          const g1 = (await store.readStream(g))[1]!;
          if (guarded.status === 'fulfilled') {
            // Committed while the guard stream was still at revision 0.
            expect(guarded.value.position).toBeLessThan(g1.position);
          } else {
            expect(guarded.reason).toMatchObject({ stream: g, expected: 0, actual: 1 });
            expect(await store.readStream(s)).toEqual([]);
          }
        }
      } finally {
        await other.close();
      }
    });

    it.runIf(!streamGuards)('refuses every guarded append, naming the guard stream, and writes nothing', async () => {
      const s = stream('unguardable');
      const g = stream('unguardable-guard');
      const refused = await store.appendGuarded(s, [event('A')], 'no_stream', { stream: g, revision: 'no_stream' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(StreamGuardUnsupportedError);
      expect(refused).toMatchObject({ guard: { stream: g, revision: 'no_stream' } });
      expect((refused as Error).message).toContain(g);
      expect(await store.readStream(s)).toEqual([]);
    });

    it('concurrent writers to one stream: exactly one wins each revision', async () => {
      const s = stream('race');
      await store.append(s, [event('Start')], 'no_stream');
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => store.append(s, [event('Racer')], 0)),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await store.readStream(s)).toHaveLength(2);
    });
  });
}

async function collectAll(store: EventStore, after: number): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let position = after;
  for (;;) {
    const page = await store.readAll(position, { maxCount: 500 });
    events.push(...page.events);
    position = page.scannedTo;
    if (page.endOfStore) return events;
  }
}

function isAscending(values: number[]): boolean {
  return values.every((value, i) => i === 0 || value > values[i - 1]!);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)),
  ]);
}
