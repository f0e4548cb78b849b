// A capture is decided on the empty stream without reading it; only an append that
// expects no stream confirms that, and every other outcome is decided on the stream as read.
// A maker's cancellation is decided on the trade and its booking as they stand when it commits.
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteEventStore, StreamGuardUnsupportedError, type EventStore, type StreamGuard } from '../eventstore/index.js';
import { recordRouting, RegistryView } from '../slots/index.js';
import { bookedByTheBookingManager } from '../tests/support/booking.js';
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

/**
 * A trade the booking manager is about to book: captured, fully allocated and confirmed through the API,
 * all journalled on its booking stream, but its version not yet noted there, so not booked.
 */
async function aboutToBeBooked(commands: CommandService, tradeRef: string): Promise<void> {
  await commands.captureTrade(tradeRef, terms(), { inputId: `${tradeRef}-capture` });
  await commands.allocate(tradeRef, 'A1', 'ACC-A', 1000, { inputId: `${tradeRef}-allocate` });
  await commands.confirm(tradeRef, { status: 'AFFIRMED', quantity: 1000, price: '189.25', reason: '' }, { inputId: `${tradeRef}-confirm` });
}

/**
 * The store, with a hook run once just before the first append to `stream` reaches it: whatever the hook
 * writes lands after everything the command read and before its append, the race made certain.
 */
function racingStore(inner: EventStore, stream: string, meanwhile: () => Promise<void>): { store: EventStore; appends: string[] } {
  let armed = true;
  const appends: string[] = [];
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'append' || property === 'appendGuarded') {
        return async (to: string, ...rest: unknown[]) => {
          if (to === stream) {
            appends.push(property);
            if (armed) {
              armed = false;
              await meanwhile();
            }
          }
          return (target[property] as (...args: unknown[]) => unknown).call(target, to, ...rest);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, appends };
}

describe("a maker's cancellation under four eyes", () => {
  it('the booking manager books the trade after the command found it unbooked and before its cancellation is appended: not cancelled, four eyes asked for instead', async () => {
    const { store: inner } = countingStore();
    await aboutToBeBooked(new CommandService(inner, noExceptions), 'RACE-1');
    expect((await inner.readStream('booking-RACE-1')).map((e) => e.type)).toEqual(['AllocationNoted', 'ConfirmationNoted']);
    const { store, appends } = racingStore(inner, 'trade-RACE-1', () => bookedByTheBookingManager(inner, 'RACE-1'));
    const commands = new CommandService(store, noExceptions);

    const answer = await commands.cancelUnlessBooked('RACE-1', 'wrong counterparty', { inputId: 'cancel-1', actor: { subject: 'maker' } });

    expect(answer).toEqual(E.right({ fourEyes: 'booked', tradeRef: 'RACE-1', version: 1, account: 'ACC-A' }));
    // The first decision's append was refused by its guard (the booking stream had moved), the second saw the booking.
    expect(appends).toEqual(['appendGuarded']);
    expect((await inner.readStream('trade-RACE-1')).map((e) => e.type)).toEqual(['VersionApplied']);
    expect((await inner.readStream('booking-RACE-1')).map((e) => e.type)).toContain('TradeBooked');
    // What an approval carries out, with the maker as actor, still cancels the booked trade.
    expect(await commands.cancelTrade('RACE-1', 'wrong counterparty', { inputId: 'approved-1', actor: { subject: 'maker' }, expectedVersions: ['1'] })).toEqual(
      E.right(expect.objectContaining({ tradeRef: 'RACE-1', version: 2 })),
    );
  });

  it('a trade that is not booked is cancelled at once, guarded by its booking stream; a retry of it answers the same, appending nothing', async () => {
    const { store: inner } = countingStore();
    await aboutToBeBooked(new CommandService(inner, noExceptions), 'QUIET-1');
    const { store, appends } = racingStore(inner, 'trade-QUIET-1', async () => undefined);
    const commands = new CommandService(store, noExceptions);
    const context = { inputId: 'cancel-2', actor: { subject: 'maker' } };
    const first = await commands.cancelUnlessBooked('QUIET-1', 'duplicate', context);
    expect(first).toEqual(E.right(expect.objectContaining({ tradeRef: 'QUIET-1', version: 2 })));
    expect(appends).toEqual(['appendGuarded']);
    // Booked or not by now, the input was handled: answered again, not sent to four eyes.
    expect(await commands.cancelUnlessBooked('QUIET-1', 'duplicate', context)).toEqual(first);
    expect((await inner.readStream('trade-QUIET-1')).map((e) => e.type)).toEqual(['VersionApplied', 'TradeCancelled']);
    expect(appends).toEqual(['appendGuarded']);
  });

  it('a store that cannot guard the append (EventStoreDB) gets four eyes asked for, and nothing is cancelled', async () => {
    const { store: inner } = countingStore();
    await aboutToBeBooked(new CommandService(inner, noExceptions), 'ESDB-1');
    const unguardable = new Proxy(inner, {
      get(target, property, receiver) {
        if (property === 'appendGuarded') return (_stream: string, _events: unknown, _expected: unknown, guard: StreamGuard) => Promise.reject(new StreamGuardUnsupportedError('EventStoreDB', guard));
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const commands = new CommandService(unguardable, noExceptions);
    expect(await commands.cancelUnlessBooked('ESDB-1', 'duplicate', { inputId: 'cancel-3', actor: { subject: 'maker' } })).toEqual(
      E.right({ fourEyes: 'unguarded', tradeRef: 'ESDB-1', version: 1, account: 'ACC-A' }),
    );
    expect((await inner.readStream('trade-ESDB-1')).map((e) => e.type)).toEqual(['VersionApplied']);
  });
});
