// A capture is decided on the empty stream without reading it; only an append that
// expects no stream confirms that, and every other outcome is decided on the stream as read.
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteEventStore, type EventStore } from '../eventstore/index.js';
import { recordRouting, RegistryView } from '../slots/index.js';
import { tempDir, terms } from '../tests/support/feed.js';
import { CommandService } from './service.js';

const opened: SqliteEventStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

/** The store, with the streams the service read counted. */
function countingStore(): { store: EventStore; reads: string[] } {
  const inner = SqliteEventStore.open(join(tempDir('kepler-commands-'), 'events.db'));
  opened.push(inner);
  const reads: string[] = [];
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'readStream') return (stream: string, options?: object) => (reads.push(stream), target.readStream(stream, options));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, reads };
}

const noExceptions = async () => null;

describe('capturing a trade', () => {
  it('appends a new trade without reading its stream', async () => {
    const { store, reads } = countingStore();
    const commands = new CommandService(store, noExceptions);
    const answer = await commands.captureTrade('NEW-1', terms(), { inputId: 'in-1' });
    expect(answer).toEqual(E.right({ tradeRef: 'NEW-1', version: 1, position: 1 }));
    expect(reads).toEqual([]);
    expect((await store.readStream('trade-NEW-1')).map((e) => e.type)).toEqual(['VersionApplied']);
  });

  it('answers a trade that exists as if its stream had been read first: refused, a retry answered again, a stale If-Match naming the version that stands', async () => {
    const { store, reads } = countingStore();
    const commands = new CommandService(store, noExceptions);
    await commands.captureTrade('OLD-1', terms(), { inputId: 'in-1' });
    await commands.amendTrade('OLD-1', terms({ quantity: 7 }), { inputId: 'in-2' });

    const again = await commands.captureTrade('OLD-1', terms(), { inputId: 'in-3' });
    expect(again).toEqual(E.left(expect.objectContaining({ status: 409, type: '/problems/trade-exists' })));
    // The same input again (a retry whose first answer was lost): the version that stands, nothing appended.
    const retry = await commands.captureTrade('OLD-1', terms(), { inputId: 'in-1' });
    expect(retry).toEqual(E.right({ tradeRef: 'OLD-1', version: 2, position: 2 }));
    const stale = await commands.captureTrade('OLD-1', terms(), { inputId: 'in-4', expectedVersions: ['5'] });
    expect(stale).toEqual(E.left(expect.objectContaining({ status: 409, type: '/problems/version-conflict', currentVersion: 2 })));
    expect(reads.filter((stream) => stream === 'trade-OLD-1').length).toBeGreaterThanOrEqual(3);
    expect((await store.readStream('trade-OLD-1')).map((e) => e.type)).toEqual(['VersionApplied', 'VersionApplied']);
  });

  it('on a slot that is not live, refuses a new trade with a 421, and decides one the live slot owns', async () => {
    const { store } = countingStore();
    await recordRouting(store, { live: 'blue', feed: ['blue'], events: ['blue'], publishing: null }, { expectedRevision: null, cutoverId: null, step: null });
    const registry = new RegistryView(store, 0);
    const green = new CommandService(store, noExceptions, { slot: 'green', registry });
    expect(await green.captureTrade('SLOT-1', terms(), { inputId: 'in-1' })).toEqual(E.left(expect.objectContaining({ status: 421, owner: 'blue' })));
    const blue = new CommandService(store, noExceptions, { slot: 'blue', registry });
    expect(E.isRight(await blue.captureTrade('SLOT-1', terms(), { inputId: 'in-2' }))).toBe(true);
    expect((await store.readStream('trade-SLOT-1')).map((e) => e.type)).toEqual(['SlotClaimed', 'VersionApplied']);
    // Once it exists, green is answered from the stream as read (the decision comes before the slot check, as before).
    expect(await green.captureTrade('SLOT-1', terms(), { inputId: 'in-3' })).toEqual(E.left(expect.objectContaining({ status: 409, type: '/problems/trade-exists' })));
    expect(await green.amendTrade('SLOT-1', terms(), { inputId: 'in-4' })).toEqual(E.left(expect.objectContaining({ status: 421, owner: 'blue' })));
  });
});
