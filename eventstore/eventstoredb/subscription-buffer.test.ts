// The subscription's batching and backpressure, without a server.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../port.js';
import { SubscriptionBuffer, assembleBatch, type BatchState, type BufferItem } from './subscription-buffer.js';

const recorded = (position: number, type = 'T'): RecordedEvent => ({
  id: `id-${position}`,
  type,
  data: {},
  metadata: { correlationId: 'R' },
  stream: 's-1',
  revision: position,
  position,
  recordedAt: new Date(0),
});
const event = (position: number): BufferItem => ({ kind: 'event', position, event: recorded(position) });
const skipped = (position: number): BufferItem => ({ kind: 'event', position, event: null });
const checkpoint = (position: number): BufferItem => ({ kind: 'checkpoint', position });

function bufferWithControls(highWater = 4, lowWater = 2) {
  const calls: string[] = [];
  const buffer = new SubscriptionBuffer({
    highWater,
    lowWater,
    pause: () => calls.push('pause'),
    resume: () => calls.push('resume'),
  });
  return { buffer, calls };
}

describe('SubscriptionBuffer', () => {
  it('hands out at most maxEvents deliverable events, with the markers and skips around them', async () => {
    const { buffer } = bufferWithControls(100, 50);
    for (const item of [event(1), skipped(2), event(3), checkpoint(3), skipped(4), event(5), checkpoint(5)]) {
      buffer.pushData(item);
    }
    expect(await buffer.take(2)).toEqual([event(1), skipped(2), event(3), checkpoint(3), skipped(4)]);
    expect(await buffer.take(2)).toEqual([event(5), checkpoint(5)]);
  });

  it('waits for items', async () => {
    const { buffer } = bufferWithControls();
    const taking = buffer.take(10);
    setTimeout(() => buffer.pushData(event(1)), 5);
    expect(await taking).toEqual([event(1)]);
  });

  it('pauses the source at the high-water mark and resumes at the low-water mark', async () => {
    const { buffer, calls } = bufferWithControls(4, 2);
    for (let p = 1; p <= 4; p++) buffer.pushData(event(p));
    expect(calls).toEqual(['pause']);
    expect(buffer.isPaused).toBe(true);
    buffer.pushData(event(5)); // already buffered in the client stream when we paused
    expect(calls).toEqual(['pause']);
    await buffer.take(2); // 3 left: above low water
    expect(calls).toEqual(['pause']);
    await buffer.take(1); // 2 left
    expect(calls).toEqual(['pause', 'resume']);
    expect(buffer.isPaused).toBe(false);
  });

  it('queues a marker only after the objects that were buffered ahead of it', async () => {
    const { buffer } = bufferWithControls(100, 50);
    buffer.pushData(event(1));
    buffer.pushMarker(checkpoint(3), 2); // events 2 and 3 still in the client's readable buffer
    buffer.pushData(event(2));
    expect(buffer.length).toBe(2);
    buffer.pushData(undefined); // event 3 came out but was dropped: still counts
    expect(await buffer.take(10)).toEqual([event(1), event(2), checkpoint(3)]);
  });

  it('keeps markers in their order', async () => {
    const { buffer } = bufferWithControls(100, 50);
    buffer.pushMarker(checkpoint(1), 1);
    buffer.pushMarker({ kind: 'caughtUp' }, 2);
    buffer.pushMarker({ kind: 'fellBehind' }, 0); // behind the others, whatever the client says
    buffer.pushData(event(1));
    buffer.pushData(event(2));
    expect(await buffer.take(10)).toEqual([event(1), checkpoint(1), event(2), { kind: 'caughtUp' }, { kind: 'fellBehind' }]);
  });

  it('hands out what is queued before reporting a failure', async () => {
    const { buffer } = bufferWithControls();
    buffer.pushData(event(1));
    buffer.fail(new Error('dropped'));
    expect(await buffer.take(10)).toEqual([event(1)]);
    await expect(buffer.take(10)).rejects.toThrow('dropped');
  });

  it('returns null once closed, also to a waiting consumer', async () => {
    const { buffer } = bufferWithControls();
    const waiting = buffer.take(10);
    buffer.close();
    expect(await waiting).toBeNull();
    buffer.pushData(event(1));
    expect(await buffer.take(10)).toBeNull();
  });

  it('orders markers correctly against a real paused Node readable', async () => {
    // The client's subscription is a Readable in object mode: events are pushed into it,
    // checkpoint callbacks fire when the server message arrives. Reproduce that timing.
    const source = new Readable({ objectMode: true, read() {} });
    const controls = new SubscriptionBuffer({
      highWater: 2,
      lowWater: 1,
      pause: () => source.pause(),
      resume: () => source.resume(),
    });
    source.on('data', (position: number) => controls.pushData(event(position)));
    for (let p = 1; p <= 6; p++) source.push(p);
    // Checkpoint at 6 arrives while events are still in the readable buffer.
    controls.pushMarker(checkpoint(6), source.readableLength);
    const seen: BufferItem[] = [];
    while (seen.length < 7) {
      const items = await controls.take(1);
      seen.push(...items!);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6].map(event).concat(checkpoint(6)));
  });
});

describe('assembleBatch', () => {
  const initial = (scannedTo = 0, headAtOpen: number | null = 100): BatchState => ({
    scannedTo,
    serverCaughtUp: false,
    headAtOpen,
    announced: false,
  });

  it('collects events and advances scannedTo past skipped events and checkpoints', () => {
    const { batch, state } = assembleBatch([event(10), skipped(20), checkpoint(30)], initial());
    expect(batch).toEqual({ events: [recorded(10)], scannedTo: 30, caughtUp: false });
    expect(state.scannedTo).toBe(30);
  });

  it('yields a batch with no events when only the scan moved', () => {
    expect(assembleBatch([skipped(5)], initial()).batch).toEqual({ events: [], scannedTo: 5, caughtUp: false });
  });

  it('yields nothing when nothing changed', () => {
    expect(assembleBatch([checkpoint(3)], initial(10)).batch).toBeNull();
  });

  it('never hands out an event at or before scannedTo twice', () => {
    const { batch } = assembleBatch([event(5), event(12)], initial(10));
    expect(batch!.events.map((e) => e.position)).toEqual([12]);
  });

  it('announces caught-up once when the server says so, then carries the flag', () => {
    let { batch, state } = assembleBatch([{ kind: 'caughtUp' }], initial(10));
    expect(batch).toEqual({ events: [], scannedTo: 10, caughtUp: true });
    ({ batch, state } = assembleBatch([{ kind: 'caughtUp' }], state));
    expect(batch).toBeNull();
    ({ batch, state } = assembleBatch([event(11)], state));
    expect(batch).toEqual({ events: [recorded(11)], scannedTo: 11, caughtUp: true });
  });

  it('is caught up once the scan reaches the head seen at open', () => {
    const { batch } = assembleBatch([event(50), skipped(100)], initial(0, 100));
    expect(batch).toEqual({ events: [recorded(50)], scannedTo: 100, caughtUp: true });
  });

  it('falls behind again when the server says so, and re-announces catching up', () => {
    let { state } = assembleBatch([{ kind: 'caughtUp' }], initial(0, null));
    let batch: ReturnType<typeof assembleBatch>['batch'];
    ({ batch, state } = assembleBatch([{ kind: 'fellBehind' }, event(1)], state));
    expect(batch!.caughtUp).toBe(false);
    ({ batch, state } = assembleBatch([{ kind: 'caughtUp' }], state));
    expect(batch).toEqual({ events: [], scannedTo: 1, caughtUp: true });
  });
});
