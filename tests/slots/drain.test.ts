// Draining a slot hands its trades to the live slot. What the drained slot's
// processors had decided must be known before a hand-over calls it quiescent:
// without their checkpoints (processors that never ran, or counted under another
// partition count) the new owner must look again at every input since the old
// owner took the trade, or inputs nobody decided would stay undecided.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteEventStore, type EventStore } from '../../eventstore/index.js';
import { recordRouting, SLOT_CLAIMED, SLOT_HANDED_OVER, type SlotHandedOver } from '../../slots/index.js';
import { drainSlot, followerCheckpoints, SLOT_PROCESSORS, type SlotOperations } from '../../slots/operations.js';

describe('drain', () => {
  let dir: string;
  let store: EventStore;
  let ops: SlotOperations;
  let claimedAt: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kepler-drain-'));
    store = SqliteEventStore.open(join(dir, 'events.db'));
    // Only the store is used by a drain; the broker side stays unset on purpose.
    ops = { store, broker: undefined as never, names: undefined as never, actor: { subject: 'ops', clientId: 'kepler-cli' }, partitions: 1 };
    const claim = await store.append('trade-T1', [{ id: 'c1', type: SLOT_CLAIMED, data: { type: SLOT_CLAIMED, tradeRef: 'T1', slot: 'blue' }, metadata: { correlationId: 'T1' } }], 'no_stream');
    claimedAt = claim.position;
    await store.append('trade-T1', [{ id: 'e1', type: 'TradeCaptured', data: { tradeRef: 'T1' }, metadata: { correlationId: 'T1' } }], 0);
    await recordRouting(store, { live: 'green', feed: ['green'], events: ['green'], publishing: null }, { expectedRevision: null, cutoverId: null, step: null });
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const handOver = async (): Promise<SlotHandedOver | undefined> => (await store.readStream('trade-T1')).find((e) => e.type === SLOT_HANDED_OVER)?.data as SlotHandedOver | undefined;

  it('hands over as drained once the slot’s processors are known to have passed the head, from where they got to', async () => {
    const head = await store.headPosition();
    for (const name of followerCheckpoints('blue', SLOT_PROCESSORS, 1)) await store.writeCheckpoint({ name, position: head });
    const drained = await drainSlot(ops, 'blue', { deadlineMs: 60_000 });
    expect(drained).toMatchObject({ owned: 0, forced: 0 });
    expect(await handOver()).toMatchObject({ from: 'blue', to: 'green', reason: 'drained', since: head });
  });

  it('without the slot’s checkpoints, waits for the deadline and has the new owner look again since the old one took the trade', async () => {
    // Checkpoints under another partition count than the one asked for: unknown, not quiescent.
    const head = await store.headPosition();
    for (const name of followerCheckpoints('blue', SLOT_PROCESSORS, 2)) await store.writeCheckpoint({ name, position: head });
    const drained = await drainSlot(ops, 'blue', { deadlineMs: 0 });
    expect(drained).toMatchObject({ owned: 0, forced: 1, progress: null });
    expect(await handOver()).toMatchObject({ reason: 'deadline', since: claimedAt });
  });
});
