// The SQLite store answers a read right after its own commits from the rows it kept of them
// (sqlite-event-store.ts, ownRows) rather than through a statement. Whatever the mix of its own
// group commits, refused appends, checkpoint-only commits and another connection's commits in
// between, what it answers must be what a read through SQL gives: here, another connection's.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventFilter, ExpectedRevision, StreamAppend } from '../port.js';
import { SqliteEventStore } from './sqlite-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'kepler-own-rows-'));

// A stream with a lone surrogate is one SQLite stores converted: such a row must be read from SQLite.
const stream = fc.constantFrom('x-1', 'x-2', 'y-1', 'y-é', 'x-\ud800');
const eventType = fc.constantFrom('Wanted', 'Other', 'Third');
const text = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 12 });
const data = fc.record({ text, n: fc.integer(), list: fc.array(fc.oneof(text, fc.integer(), fc.constant(null)), { maxLength: 3 }) });
const expected: fc.Arbitrary<ExpectedRevision> = fc.oneof(fc.constant<ExpectedRevision>('any'), fc.constant<ExpectedRevision>('no_stream'), fc.nat({ max: 3 }));
const append = fc.record({ stream, expected, events: fc.array(fc.record({ type: eventType, data }), { minLength: 1, maxLength: 3 }) });
const filter: fc.Arbitrary<EventFilter | undefined> = fc.constantFrom(
  undefined,
  { eventTypes: ['Wanted'] },
  { streamPrefixes: ['y-'] },
  { eventTypes: ['Wanted', 'Third'], streamPrefixes: ['x-'] },
);

type Step =
  | { kind: 'group'; appends: Array<{ stream: string; expected: ExpectedRevision; events: Array<{ type: string; data: unknown }> }> }
  | { kind: 'many'; appends: Array<{ stream: string; expected: ExpectedRevision; events: Array<{ type: string; data: unknown }> }>; checkpoint: boolean }
  | { kind: 'other'; stream: string; events: Array<{ type: string; data: unknown }> }
  | { kind: 'checkpoint' }
  | { kind: 'read'; back: number; maxCount: number; filter: EventFilter | undefined };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('group' as const), appends: fc.array(append, { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('many' as const), appends: fc.array(append, { minLength: 1, maxLength: 3 }), checkpoint: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('other' as const), stream, events: fc.array(fc.record({ type: eventType, data }), { minLength: 1, maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('read' as const), back: fc.nat({ max: 12 }), maxCount: fc.constantFrom(1, 2, 3, 1000), filter }) },
);

let ids = 0;
const events = (list: ReadonlyArray<{ type: string; data: unknown }>) => list.map(({ type, data }) => ({ id: `e${++ids}`, type, data, metadata: { correlationId: 'c', actor: undefined } }));

describe('SQLite event store: reads answered from its own last commits', () => {
  it('give what a read through SQL gives, whatever came before', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const path = join(dir, `run-${++run}.db`);
        const mine = SqliteEventStore.open(path);
        const other = SqliteEventStore.open(path);
        try {
          for (const s of steps) {
            if (s.kind === 'group') {
              // Appends made in one turn commit as one group; a refused one writes nothing and moves no position.
              await Promise.allSettled(s.appends.map((a) => mine.append(a.stream, events(a.events), a.expected)));
            } else if (s.kind === 'many') {
              const appends: StreamAppend[] = s.appends.map((a) => ({ stream: a.stream, expectedRevision: a.expected, events: events(a.events) }));
              await mine.appendMany(appends, s.checkpoint ? { checkpoint: { name: 'p', position: await mine.headPosition() } } : {});
            } else if (s.kind === 'other') {
              await other.append(s.stream, events(s.events), 'any');
            } else if (s.kind === 'checkpoint') {
              await mine.writeCheckpoint({ name: 'q', position: await mine.headPosition() });
            } else {
              const after = Math.max(0, (await other.headPosition()) - s.back);
              const options = { maxCount: s.maxCount, filter: s.filter };
              expect(await mine.readAll(after, options)).toEqual(await other.readAll(after, options));
            }
          }
        } finally {
          await mine.close();
          await other.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
