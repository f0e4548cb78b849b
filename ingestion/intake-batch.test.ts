import { describe, expect, it } from 'vitest';
import { decodeEvent, encodedText, isEncoded, type EventData } from '../eventstore/index.js';
import type { DetailRecord, TradeTerms } from '../domain/feed.js';
import { addReceivedToIntakeBatch, addToIntakeBatch, intakeKinds, intakeNewStreamEvents, recycleIntakeBuffers, unpackIntakeBatch } from './intake-batch.js';
import { intakeAppend } from './record-writer.js';
import { emptyIntakeBatch, intakeBatchTransfer, joinIntakeBatches } from './packed-batch.js';

const event = (n: number): EventData => ({ id: `id-${n}`, type: 'NewTradeReceived', data: { n, text: 'ü"\\' }, metadata: { correlationId: `REF-${n}` } });

describe('intake batches as columns, for the trip between threads', () => {
  it('unpack gives back each item as an append of its encoded event, with the file boundaries', () => {
    const batch = emptyIntakeBatch();
    addToIntakeBatch(batch, 'record', 'core-1', event(1));
    addToIntakeBatch(batch, 'rejection', 'rejected-ab', event(2));
    addToIntakeBatch(batch, 'exception', 'rejected-cd', event(3));
    batch.segments.push({ file: 0, items: 3, linesRead: 4, summary: { header: null, lines: 2, detailLines: 2, controlTotal: 10n ** 20n, trailer: 'MISSING', trailerDetail: 'none', trailerLine: null } });
    const { items, segments } = unpackIntakeBatch(structuredClone(batch));
    expect(items.map((item) => [item.kind, item.append.stream, item.append.expectedRevision])).toEqual([
      ['record', 'core-1', 'no_stream'],
      ['rejection', 'rejected-ab', 'no_stream'],
      ['exception', 'rejected-cd', 'no_stream'],
    ]);
    const [first] = items[0]!.append.events;
    expect(first && isEncoded(first) && { id: first.id, type: first.type, ...encodedText(first.encoded) }).toEqual({ id: 'id-1', type: 'NewTradeReceived', data: JSON.stringify(event(1).data), metadata: JSON.stringify(event(1).metadata) });
    expect(items.map((item) => decodeEvent(item.append.events[0]!))).toEqual([event(1), event(2), event(3)]);
    expect(segments).toEqual(batch.segments);
  });

  it("carries a received record's event type as its letter, not as text, and gives it back as intakeAppend's type", () => {
    const terms: TradeTerms = { account: 'ACC', isin: 'US0378331005', side: 'BUY', quantity: 5, price: '1.5', currency: 'USD', tradeDate: '2026-11-27', settleDate: '2026-12-01', counterparty: 'CP' };
    const records: DetailRecord[] = [
      { type: 'TRD', tradeRef: 'T1', version: 1, terms },
      { type: 'AMD', tradeRef: 'T1', version: 2, terms },
      { type: 'CXL', tradeRef: 'T1', version: 3, reason: 'R' },
      { type: 'ALC', tradeRef: 'T1', allocationId: 'A1', account: 'ACC', quantity: 5 },
      { type: 'CNF', tradeRef: 'T1', status: 'AFFIRMED', quantity: 5, price: '1.5', reason: '' },
    ];
    const items = records.map((record, n) => ({ kind: 'record' as const, source: 'CORE' as const, file: 'F.cx1', line: n + 2, raw: `line ${n}`, sourceSequence: n + 1, record }));
    const batch = emptyIntakeBatch();
    items.forEach((item) => addReceivedToIntakeBatch(batch, item));
    const rejected: EventData = { ...event(9), type: 'LineRejected' };
    addToIntakeBatch(batch, 'rejection', 'rejected-ab', rejected);
    // No type's text travels for the records: only the rejection's own.
    expect(batch.keys).not.toMatch(/Received/);
    const moved = structuredClone(batch);
    const expected = [...items.map((item) => intakeAppend(item)), { stream: 'rejected-ab', events: [rejected] }].map((append) => [append.stream, append.events[0]!.id, append.events[0]!.type]);
    const { keys } = intakeNewStreamEvents(moved);
    expect(expected.map((_, i) => [keys[3 * i], keys[3 * i + 1], keys[3 * i + 2]])).toEqual(expected);
    expect(unpackIntakeBatch(moved).items.map(({ append }) => [append.stream, append.events[0]!.id, append.events[0]!.type])).toEqual(expected);
    expect(intakeKinds(moved)).toEqual(['record', 'record', 'record', 'record', 'record', 'rejection']);
  });

  it('moves the JSON as UTF-8 bytes, whatever its characters and however long, growing a batch\'s buffer as needed', () => {
    const batch = emptyIntakeBatch();
    const events: EventData[] = [];
    // Several items larger than the first buffer, with characters of one to four bytes and a lone surrogate (JSON.stringify escapes it).
    for (let n = 0; n < 40; n++) {
      const text = `${'ä€😀\ud800"'.repeat(n * 1000)}${n}`;
      events.push({ id: `id-${n}`, type: 'T', data: { n, text }, metadata: { correlationId: `ü-${n}` } });
      addToIntakeBatch(batch, 'record', `s-${n}`, events[n]!);
    }
    const transfer = intakeBatchTransfer(batch);
    const moved = structuredClone(batch, { transfer });
    expect(transfer.every((buffer) => buffer.byteLength === 0)).toBe(true);
    expect(unpackIntakeBatch(moved).items.map((item) => decodeEvent(item.append.events[0]!))).toEqual(events);
    expect(unpackIntakeBatch(moved).items.map((item) => { const e = item.append.events[0]!; return isEncoded(e) && encodedText(e.encoded).data; })).toEqual(events.map((e) => JSON.stringify(e.data)));
  });

  it('refuses a batch whose stream, id or type held a line feed, rather than misplace the keys', () => {
    const batch = emptyIntakeBatch();
    addToIntakeBatch(batch, 'record', 'core\n1', event(1));
    addToIntakeBatch(batch, 'record', 'core-2', event(2));
    expect(() => unpackIntakeBatch(structuredClone(batch))).toThrow(/line feed/);
  });

  it('splits each item\'s bytes into data and metadata wherever the non-ASCII characters are (one write of both when all are ASCII)', () => {
    const batch = emptyIntakeBatch();
    const events: EventData[] = [
      { id: 'a', type: 'T', data: { text: 'plain' }, metadata: { correlationId: 'plain' } },
      { id: 'b', type: 'T', data: { text: 'plain' }, metadata: { correlationId: 'ü€😀' } },
      { id: 'c', type: 'T', data: { text: 'ü€😀' }, metadata: { correlationId: 'plain' } },
      { id: 'd', type: 'T', data: { text: '\ud800' }, metadata: { correlationId: '\udc00' } },
    ];
    events.forEach((e, n) => addToIntakeBatch(batch, 'record', `s-${n}`, e));
    const texts = unpackIntakeBatch(structuredClone(batch)).items.map((item) => { const e = item.append.events[0]!; return isEncoded(e) && encodedText(e.encoded); });
    expect(texts).toEqual(events.map((e) => ({ data: JSON.stringify(e.data), metadata: JSON.stringify(e.metadata) })));
  });

  it('joins batches, a file that runs on from one to the next becoming one segment', () => {
    const first = emptyIntakeBatch();
    addToIntakeBatch(first, 'record', 'core-1', event(1));
    addToIntakeBatch(first, 'record', 'core-2', event(2));
    first.segments.push({ file: 0, items: 1, linesRead: 3, summary: { header: null, lines: 1, detailLines: 1, controlTotal: 0n, trailer: 'OK', trailerDetail: null, trailerLine: null } }, { file: 1, items: 1, linesRead: 2 });
    const second = emptyIntakeBatch();
    addToIntakeBatch(second, 'record', 'core-3', event(3));
    second.segments.push({ file: 1, items: 1, linesRead: 3 }, { file: 2, items: 0, linesRead: 1 });
    joinIntakeBatches(first, second);
    expect(unpackIntakeBatch(first).items.map((item) => item.append.stream)).toEqual(['core-1', 'core-2', 'core-3']);
    expect(first.kinds).toBe('rrr');
    expect(first.segments.map((s) => [s.file, s.items, s.linesRead, s.summary?.trailer])).toEqual([
      [0, 1, 3, 'OK'],
      [1, 2, 3, undefined],
      [2, 0, 1, undefined],
    ]);
  });

  it('fills a recycled buffer again, whatever it held, rather than take a new one', () => {
    const first = emptyIntakeBatch();
    addToIntakeBatch(first, 'record', 'core-1', event(1));
    const [buffer] = intakeBatchTransfer(first);
    // What the buffer held is of no account: only what each item writes is read.
    new Uint8Array(buffer!).fill(0x7b);
    recycleIntakeBuffers([buffer!, new ArrayBuffer(0)]);
    const second = emptyIntakeBatch();
    addToIntakeBatch(second, 'record', 'core-2', event(2));
    addToIntakeBatch(second, 'rejection', 'rejected-ab', event(3));
    expect(intakeBatchTransfer(second)).toEqual([buffer]);
    expect(intakeBatchTransfer(second)[0]).toBe(buffer);
    expect(unpackIntakeBatch(second).items.map((item) => decodeEvent(item.append.events[0]!))).toEqual([event(2), event(3)]);
    // Taken once: the next batch gets a buffer of its own.
    const third = emptyIntakeBatch();
    addToIntakeBatch(third, 'record', 'core-3', event(4));
    expect(intakeBatchTransfer(third)[0]).not.toBe(buffer);
  });
});
