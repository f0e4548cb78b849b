// The AMQP message contracts and the pure parts of the messaging module: no broker needed.
import { describe, expect, it } from 'vitest';
import { Cx1FileClassifier, formatDetail, formatHeader, formatTrailer, linesOfText } from '../../ingestion/cx1/index.js';
import type { RecordedEvent } from '../../eventstore/index.js';
import { SqliteEventStore } from '../../eventstore/index.js';
import {
  FeedConsumer,
  IntegrationPublisher,
  backoffDelay,
  decodeFeedMessage,
  feedLineMessage,
  integrationMessage,
  topologyNames,
  type IntegrationEventBody,
} from '../../messaging/index.js';
import { terms } from '../support/feed.js';

const TRD = formatDetail(42, { type: 'TRD', tradeRef: 'T-1', version: 1, terms: terms() });
const ALC = formatDetail(43, { type: 'ALC', tradeRef: 'T-1', allocationId: 'A1', account: 'FUND-1', quantity: 1000 });
const headers = (line: number | string = 7, source: unknown = 'CORE', file: unknown = 'CORE_1.cx1') => ({ 'x-source': source, 'x-file': file, 'x-line': line });

/** What file ingestion makes of `text` as line `lineNo` of a file from `source`. */
function asFileLine(source: 'CORE' | 'ALLOC' | 'CUSTODY', lineNo: number, text: string) {
  const classifier = new Cx1FileClassifier();
  // A line follows, so that a blank line is a line (trailing blank lines are not).
  const lines = linesOfText([formatHeader({ source, businessDate: '2026-11-27', fileNumber: '1' }), ...Array(lineNo - 2).fill(TRD), text, TRD].join('\n'));
  let found = null;
  for (const line of lines) {
    const outcome = classifier.classify(line);
    if (line.lineNo === lineNo) found = outcome;
  }
  return found;
}

describe('feed message contract', () => {
  it('builds one message per line: body = the line, headers = source, file, line; routing key = source', () => {
    const message = feedLineMessage({ source: 'CUSTODY', file: 'CUSTODY_1.cx1', line: 12, raw: TRD });
    expect(message.routingKey).toBe('custody');
    expect(message.content.toString('latin1')).toBe(TRD);
    expect(message.options).toMatchObject({ persistent: true, messageId: 'CUSTODY_1.cx1:12', headers: { 'x-source': 'CUSTODY', 'x-file': 'CUSTODY_1.cx1', 'x-line': 12 } });
  });

  it('carries a W3C traceparent header into the record, and ignores a malformed one', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const traced = decodeFeedMessage({ content: Buffer.from(TRD, 'latin1'), headers: { ...headers(), traceparent } });
    expect(traced.item).toMatchObject({ kind: 'record', traceparent });
    const malformed = decodeFeedMessage({ content: Buffer.from(TRD, 'latin1'), headers: { ...headers(), traceparent: 'nonsense' } });
    expect(malformed.item).not.toHaveProperty('traceparent');
  });

  it('a valid line becomes the same record as in a file', () => {
    const decoded = decodeFeedMessage({ content: Buffer.from(TRD, 'latin1'), headers: headers() });
    expect(decoded.settle).toBe('ack');
    const fromFile = asFileLine('CORE', 7, TRD);
    expect(fromFile?.kind).toBe('detail');
    expect(decoded.item).toMatchObject({ kind: 'record', source: 'CORE', file: 'CORE_1.cx1', line: 7, raw: TRD });
    if (decoded.item.kind === 'record' && fromFile?.kind === 'detail') {
      expect(decoded.item.record).toEqual(fromFile.record);
      expect(decoded.item.sourceSequence).toBe(fromFile.sourceSequence);
    }
  });

  it('x-line may be a string of digits; one trailing LF or CRLF is dropped', () => {
    for (const body of [`${TRD}\n`, `${TRD}\r\n`]) {
      const decoded = decodeFeedMessage({ content: Buffer.from(body, 'latin1'), headers: headers('7') });
      expect(decoded.item).toMatchObject({ kind: 'record', line: 7, raw: TRD });
    }
  });

  it.each([
    ['a record type the source may not send', ALC, 'CORE'],
    ['a second header', formatHeader({ source: 'CORE', businessDate: '2026-11-27', fileNumber: '9' }), 'CORE'],
    ['a broken trailer', `TRL${'X'.repeat(125)}`, 'CORE'],
    ['a short line', 'TRD1', 'ALLOC'],
    ['an empty line', '', 'CUSTODY'],
    ['a non-ASCII byte', `${TRD.slice(0, 40)}\u00e9${TRD.slice(41)}`, 'CORE'],
    ['an overlong line', 'X'.repeat(70_000), 'CORE'],
  ] as const)('%s is rejected with the code and detail file ingestion gives, and acknowledged', (_what, text, source) => {
    const decoded = decodeFeedMessage({ content: Buffer.from(text, 'latin1'), headers: headers(5, source) });
    const fromFile = asFileLine(source, 5, text);
    expect(fromFile?.kind).toBe('rejected');
    expect(decoded.settle).toBe('ack');
    if (fromFile?.kind !== 'rejected') return;
    expect(decoded.item).toEqual({ kind: 'rejection', source, file: 'CORE_1.cx1', line: 5, raw: fromFile.raw, code: fromFile.code, detail: fromFile.detail, tradeRef: fromFile.tradeRef });
  });

  it('a valid trailer is not a detail line: INVALID_RECORD, acknowledged', () => {
    const decoded = decodeFeedMessage({ content: Buffer.from(formatTrailer({ recordCount: 1, controlTotal: 1n }), 'latin1'), headers: headers() });
    expect(decoded).toMatchObject({ settle: 'ack', item: { kind: 'rejection', code: 'INVALID_RECORD' } });
  });

  it.each([
    ['no headers at all', undefined, /missing header x-source; missing header x-file; missing header x-line/],
    ['an unknown source', headers(7, 'API'), /invalid header x-source "API"/],
    ['a file name with a directory', headers(7, 'CORE', 'in/CORE_1.cx1'), /invalid header x-file "in\/CORE_1.cx1"/],
    ['a line number that is not one', headers('7a'), /invalid header x-line "7a"/],
    ['line 0', headers(0), /invalid header x-line 0/],
  ] as const)('%s: UNPROCESSABLE_MESSAGE, dead-lettered', (_what, h, detail) => {
    const decoded = decodeFeedMessage({ content: Buffer.from(TRD, 'latin1'), headers: h });
    expect(decoded.settle).toBe('dead-letter');
    expect(decoded.item).toMatchObject({ kind: 'rejection', code: 'UNPROCESSABLE_MESSAGE', raw: TRD, tradeRef: 'T-1' });
    if (decoded.item.kind === 'rejection') expect(decoded.item.detail).toMatch(detail);
  });

  it('an unattributable message is named by its content, so a redelivery records the same exception', () => {
    const a = decodeFeedMessage({ content: Buffer.from(TRD, 'latin1'), headers: {} });
    const b = decodeFeedMessage({ content: Buffer.from(TRD, 'latin1'), headers: {} });
    const c = decodeFeedMessage({ content: Buffer.from(`${TRD.slice(0, -1)}Z`, 'latin1'), headers: {} });
    expect(a.item.file).toMatch(/^amqp-message:[0-9a-f]{16}$/);
    expect(a.item.file).toBe(b.item.file);
    expect(c.item.file).not.toBe(a.item.file);
    // With a usable file and line, the exception is keyed like any rejected line.
    const d = decodeFeedMessage({ content: Buffer.from(TRD, 'latin1'), headers: headers(3, 'NOPE') });
    expect(d.item).toMatchObject({ file: 'CORE_1.cx1', line: 3, source: null });
  });
});

describe('integration event contract', () => {
  const event = (type: string, metadata: RecordedEvent['metadata']): RecordedEvent => ({
    id: '5f0c2a4e-1d2b-5c3d-8e4f-000000000001',
    type,
    data: { type, tradeRef: 'T-1', version: 2 },
    metadata,
    stream: 'booking-T-1',
    revision: 3,
    position: 77,
    recordedAt: new Date('2026-11-27T10:00:00.000Z'),
  });

  it('carries the event id as message-id, the correlation id and the traceparent', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const message = integrationMessage(event('TradeBooked', { correlationId: 'T-1', causationId: 'c-1', traceparent }))!;
    expect(message.routingKey).toBe('trade.booked');
    expect(message.options).toMatchObject({
      persistent: true,
      messageId: '5f0c2a4e-1d2b-5c3d-8e4f-000000000001',
      correlationId: 'T-1',
      type: 'TradeBooked',
      contentType: 'application/json',
      headers: { traceparent, 'x-causation-id': 'c-1', 'x-stream': 'booking-T-1', 'x-position': 77 },
    });
    const body = JSON.parse(message.content.toString('utf8')) as IntegrationEventBody;
    expect(body).toEqual({
      id: '5f0c2a4e-1d2b-5c3d-8e4f-000000000001',
      type: 'TradeBooked',
      routingKey: 'trade.booked',
      stream: 'booking-T-1',
      revision: 3,
      position: 77,
      recordedAt: '2026-11-27T10:00:00.000Z',
      correlationId: 'T-1',
      causationId: 'c-1',
      traceparent,
      data: { type: 'TradeBooked', tradeRef: 'T-1', version: 2 },
    });
  });

  it('maps domain events to routing keys and keeps internal ones in', () => {
    const key = (type: string) => integrationMessage(event(type, { correlationId: 'T-1' }))?.routingKey ?? null;
    expect(key('BookingReversed')).toBe('booking.reversed');
    expect(key('TradeCancelled')).toBe('trade.cancelled');
    expect(key('VersionApplied')).toBe('trade.version-applied');
    expect(key('LineRejected')).toBe('exception.line-rejected');
    expect(key('NewTradeReceived')).toBeNull();
    expect(key('AllocationNoted')).toBeNull();
    expect(integrationMessage(event('TradeBooked', { correlationId: 'T-1' }))!.options.headers).not.toHaveProperty('traceparent');
  });
});

describe('topology and reconnection', () => {
  it('derives every name from the prefix and the slot', () => {
    expect(topologyNames()).toEqual({
      prefix: 'kepler',
      feedExchange: 'kepler.feed',
      unroutedExchange: 'kepler.feed.unrouted',
      unroutedQueue: 'kepler.feed.unrouted',
      feedQueues: { blue: 'kepler.feed.blue', green: 'kepler.feed.green' },
      deadLetterExchange: 'kepler.feed.dlx',
      deadLetterQueue: 'kepler.feed.dead',
      eventsExchange: 'kepler.events',
      slotEventsExchanges: { blue: 'kepler.events.blue', green: 'kepler.events.green' },
    });
    expect(() => topologyNames('a b')).toThrow(/invalid/);
  });

  it('backs off exponentially, with jitter, up to a cap', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 5000, factor: 2 };
    expect(backoffDelay(1, options, () => 0)).toBe(50);
    expect(backoffDelay(1, options, () => 1)).toBe(100);
    expect(backoffDelay(4, options, () => 0.5)).toBe(600);
    expect(backoffDelay(30, options, () => 1)).toBe(5000);
    expect(backoffDelay(30, options, () => 0)).toBe(2500);
  });

  it('keeps retrying an unreachable broker with backoff, and stops when told', async () => {
    const store = SqliteEventStore.open(':memory:');
    const url = 'amqp://guest:guest@127.0.0.1:1';
    const consumer = new FeedConsumer({ url, store, slot: 'blue', backoff: { initialDelayMs: 10, maxDelayMs: 40 } });
    const publisher = new IntegrationPublisher({ url, store, slot: 'blue', backoff: { initialDelayMs: 10, maxDelayMs: 40 } });
    const runs = [consumer.run(), publisher.run()];
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(consumer.status).toMatchObject({ connected: false, lastError: expect.stringMatching(/ECONNREFUSED/) });
    expect(publisher.status).toMatchObject({ connected: false, lastError: expect.stringMatching(/ECONNREFUSED/) });
    await Promise.all([consumer.stop(), publisher.stop()]);
    await Promise.all(runs);
    await store.close();
  });
});
