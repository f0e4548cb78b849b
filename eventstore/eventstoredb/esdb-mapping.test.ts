// Pure parts of the EventStoreDB adapter: no server involved.
import {
  AccessDeniedError,
  START,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { encodeEvent } from '../port.js';
import { SubscriptionEndedError, backoffDelay, isTransientError, runPerKeyInOrder } from './errors.js';
import { MATCH_NOTHING_REGEX, VISIBLE_STREAMS_REGEX, escapeRegex, planFilter } from './filters.js';
import {
  CHECKPOINT_STREAM_PREFIX,
  checkpointStreamName,
  fromEsdbCurrentRevision,
  fromEsdbMetadata,
  fromEsdbStreamName,
  isHiddenEvent,
  positionToNumber,
  toEsdbEvent,
  toEsdbExpectedRevision,
  toEsdbMetadata,
  toEsdbStreamName,
  toEsdbStreamPrefixes,
  toExactPosition,
  toReadPosition,
  toRecordedEvent,
} from './mapping.js';

describe('stream names', () => {
  it('leaves ordinary Kepler names alone', () => {
    for (const name of ['core-42', 'trade-ABC/1', 'kepler-1', 'kepler_check-1', 'a~b-1', 'x$-1', 'ünï-1']) {
      expect(toEsdbStreamName(name)).toBe(name);
    }
  });

  it('escapes names EventStoreDB treats specially or that collide with checkpoints', () => {
    expect(toEsdbStreamName('$core-1')).toBe('~$core-1');
    expect(toEsdbStreamName('$$core-1')).toBe('~$$core-1');
    expect(toEsdbStreamName('~core-1')).toBe('~~core-1');
    expect(toEsdbStreamName(`${CHECKPOINT_STREAM_PREFIX}x`)).toBe(`~${CHECKPOINT_STREAM_PREFIX}x`);
  });

  it('is reversible and injective', () => {
    const names = ['core-42', '$core-1', '~core-1', '~~core-1', '~$x', '$~x', `${CHECKPOINT_STREAM_PREFIX}a`, 'kepler_checkpoint', 'k'];
    const escaped = names.map(toEsdbStreamName);
    expect(new Set(escaped).size).toBe(names.length);
    expect(escaped.map(fromEsdbStreamName)).toEqual(names);
    // No escaped Kepler name is a system stream or a checkpoint stream.
    for (const e of escaped) expect(isHiddenEvent(e, 'T')).toBe(false);
  });

  it('rejects empty names', () => {
    expect(() => toEsdbStreamName('')).toThrow(RangeError);
    expect(() => checkpointStreamName('')).toThrow(RangeError);
  });

  it('names checkpoint streams as a category', () => {
    expect(checkpointStreamName('projector/trades')).toBe('kepler_checkpoint-projector/trades');
    expect(isHiddenEvent(checkpointStreamName('p'), 'KeplerCheckpoint')).toBe(true);
  });

  it('hides system streams and system event types', () => {
    expect(isHiddenEvent('$stats-127.0.0.1:2113', '$statsCollected')).toBe(true);
    expect(isHiddenEvent('$$core-1', '$metadata')).toBe(true);
    expect(isHiddenEvent('$ce-core', '$>')).toBe(true);
    expect(isHiddenEvent('core-1', '$>')).toBe(true);
    expect(isHiddenEvent('core-1', 'TradeBooked')).toBe(false);
  });

  it('maps stream prefixes so that every matching escaped name is selected', () => {
    expect(toEsdbStreamPrefixes(['core-', 'trade-'])).toEqual(['core-', 'trade-']);
    expect(toEsdbStreamPrefixes(['$core-'])).toEqual(['~$core-']);
    expect(toEsdbStreamPrefixes(['~x'])).toEqual(['~~x']);
    expect(toEsdbStreamPrefixes(['kepler_c'])).toEqual(['kepler_c', '~kepler_c']);
    expect(toEsdbStreamPrefixes([`${CHECKPOINT_STREAM_PREFIX}a`])).toEqual([
      `${CHECKPOINT_STREAM_PREFIX}a`,
      `~${CHECKPOINT_STREAM_PREFIX}a`,
    ]);
    expect(toEsdbStreamPrefixes([''])).toEqual(['']);
    expect(toEsdbStreamPrefixes(['core-', 'core-'])).toEqual(['core-']);

    // Property: a Kepler name starting with a prefix has an escaped name starting with a mapped prefix.
    const names = ['core-1', '$core-1', '~core-1', 'kepler_checkpoint-x', 'kepler_checkers-1', '$', '~'];
    const prefixes = ['', 'c', 'core-', '$', '$c', '~', '~c', 'k', 'kepler_checkpoint-', 'kepler_checkpoint-x', 'kepler_checkers'];
    for (const prefix of prefixes) {
      const mapped = toEsdbStreamPrefixes([prefix]);
      for (const name of names.filter((n) => n.startsWith(prefix))) {
        expect(mapped.some((m) => toEsdbStreamName(name).startsWith(m)), `${name} under ${prefix}`).toBe(true);
      }
    }
  });
});

describe('positions', () => {
  it('uses the commit position as the Kepler position', () => {
    expect(positionToNumber({ commit: 1234n, prepare: 1234n })).toBe(1234);
    expect(positionToNumber({ commit: 0n, prepare: 0n })).toBe(0);
    expect(positionToNumber(99n)).toBe(99);
  });

  it('refuses positions a JS number cannot hold exactly (2^53 bytes of log)', () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    expect(positionToNumber({ commit: max, prepare: max })).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => positionToNumber({ commit: max + 1n, prepare: max + 1n })).toThrow(RangeError);
    expect(() => positionToNumber(-1n)).toThrow(RangeError);
  });

  it('reads from the start for 0 and from the exact record otherwise', () => {
    expect(toReadPosition(0)).toBe(START);
    expect(toReadPosition(4711)).toEqual({ commit: 4711n, prepare: 4711n });
    expect(toExactPosition(1)).toEqual({ commit: 1n, prepare: 1n });
  });

  it('rejects positions that are not non-negative safe integers', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => toReadPosition(bad), String(bad)).toThrow(RangeError);
    }
  });
});

describe('revisions', () => {
  it('maps expected revisions', () => {
    expect(toEsdbExpectedRevision('any')).toBe('any');
    expect(toEsdbExpectedRevision('no_stream')).toBe('no_stream');
    expect(toEsdbExpectedRevision(0)).toBe(0n);
    expect(toEsdbExpectedRevision(41)).toBe(41n);
    expect(() => toEsdbExpectedRevision(-1)).toThrow(RangeError);
    expect(() => toEsdbExpectedRevision(1.5)).toThrow(RangeError);
  });

  it('maps the current revision of a WrongExpectedVersionError', () => {
    const onExisting = new WrongExpectedVersionError(undefined, { streamName: 's', expected: 5n, current: 0n });
    const onMissing = new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 'no_stream' });
    expect(fromEsdbCurrentRevision(onExisting.actualVersion)).toBe(0);
    expect(fromEsdbCurrentRevision(onMissing.actualVersion)).toBe('no_stream');
    expect(fromEsdbCurrentRevision(undefined)).toBe('no_stream');
    expect(fromEsdbCurrentRevision(-1n)).toBe('no_stream');
  });
});

describe('metadata', () => {
  const metadata = {
    correlationId: 'REF-1',
    causationId: 'cmd-9',
    source: 'CORE',
    sourceSequence: 7,
    file: 'cx1.dat',
    line: 12,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  };

  it('adds the conventional $correlationId and $causationId', () => {
    expect(toEsdbMetadata(metadata)).toEqual({ ...metadata, $correlationId: 'REF-1', $causationId: 'cmd-9' });
    expect(toEsdbMetadata({ correlationId: 'REF-2' })).toEqual({ correlationId: 'REF-2', $correlationId: 'REF-2' });
  });

  it('leaves out undefined fields (JSON would drop them anyway)', () => {
    const mapped = toEsdbMetadata({ correlationId: 'R', causationId: undefined, line: undefined });
    expect(Object.keys(mapped).sort()).toEqual(['$correlationId', 'correlationId']);
  });

  it('round-trips through JSON', () => {
    const raw = JSON.parse(JSON.stringify(toEsdbMetadata(metadata))) as unknown;
    expect(fromEsdbMetadata(raw)).toEqual(metadata);
  });

  it('reads events written by other tools', () => {
    expect(fromEsdbMetadata({ $correlationId: 'C', $causationId: 'K', other: 1 })).toEqual({
      correlationId: 'C',
      causationId: 'K',
      other: 1,
    });
    expect(fromEsdbMetadata(undefined)).toEqual({ correlationId: '' });
    expect(fromEsdbMetadata(new Uint8Array([1, 2]))).toEqual({ correlationId: '' });
    expect(fromEsdbMetadata(['x'])).toEqual({ correlationId: '' });
  });
});

describe('recorded events', () => {
  it('unescapes the stream and converts revision and metadata', () => {
    const created = new Date('2026-01-02T03:04:05.678Z');
    const event = toRecordedEvent(
      {
        streamId: '~$core-1',
        id: '2c1b0a4e-6a8f-4a51-9f55-2d7a6c1c2f11',
        revision: 3n,
        type: 'TradeBooked',
        created,
        data: { price: '1.5' },
        metadata: { correlationId: 'R', $correlationId: 'R' },
      },
      900,
    );
    expect(event).toEqual({
      id: '2c1b0a4e-6a8f-4a51-9f55-2d7a6c1c2f11',
      type: 'TradeBooked',
      data: { price: '1.5' },
      metadata: { correlationId: 'R' },
      stream: '$core-1',
      revision: 3,
      position: 900,
      recordedAt: created,
    });
  });
});

describe('filters', () => {
  it('escapes regex metacharacters', () => {
    const literal = 'a.b*c+d?e(f)[g]{h}|i^j$k\\l';
    expect(new RegExp(`^${escapeRegex(literal)}$`).test(literal)).toBe(true);
    expect(new RegExp(`^${escapeRegex('a.b')}$`).test('axb')).toBe(false);
  });

  it('hides system and checkpoint streams server-side when there is no filter', () => {
    const plan = planFilter();
    expect(plan.server).toEqual({ on: 'streamName', regex: VISIBLE_STREAMS_REGEX });
    const visible = new RegExp(VISIBLE_STREAMS_REGEX);
    expect(visible.test('core-1')).toBe(true);
    expect(visible.test('~$core-1')).toBe(true);
    expect(visible.test('~kepler_checkpoint-x')).toBe(true);
    expect(visible.test('$stats-1')).toBe(false);
    expect(visible.test('kepler_checkpoint-x')).toBe(false);
    expect(plan.matches('anything', 'Any')).toBe(true);
  });

  it('filters exact event types server-side with an anchored regex', () => {
    const plan = planFilter({ eventTypes: ['TradeBooked', 'Trade.Amended'] });
    expect(plan.server.on).toBe('eventType');
    const regex = new RegExp((plan.server as { regex: string }).regex);
    expect(regex.test('TradeBooked')).toBe(true);
    expect(regex.test('Trade.Amended')).toBe(true);
    expect(regex.test('TradeBookedV2')).toBe(false);
    expect(regex.test('XTradeBooked')).toBe(false);
    expect(regex.test('TradeXAmended')).toBe(false);
    expect(plan.matches('core-1', 'TradeBooked')).toBe(true);
    expect(plan.matches('core-1', 'TradeBookedV2')).toBe(false);
  });

  it('filters stream prefixes server-side and event types client-side when both are given', () => {
    const plan = planFilter({ eventTypes: ['A'], streamPrefixes: ['core-', '$sys-'] });
    expect(plan.server).toEqual({ on: 'streamName', prefixes: ['core-', '~$sys-'] });
    expect(plan.matches('core-1', 'A')).toBe(true);
    expect(plan.matches('core-1', 'B')).toBe(false);
    expect(plan.matches('$sys-1', 'A')).toBe(true);
    expect(plan.matches('trade-1', 'A')).toBe(false);
  });

  it('treats empty lists as matching nothing, still scanning server-side', () => {
    for (const filter of [{ eventTypes: [] }, { streamPrefixes: [] }, { eventTypes: ['A'], streamPrefixes: [] }]) {
      const plan = planFilter(filter);
      expect(plan.server).toEqual({ on: 'streamName', regex: MATCH_NOTHING_REGEX });
      expect(plan.matches('core-1', 'A')).toBe(false);
    }
    expect(new RegExp(MATCH_NOTHING_REGEX).test('')).toBe(false);
    expect(new RegExp(MATCH_NOTHING_REGEX).test('core-1')).toBe(false);
  });
});

describe('errors and backoff', () => {
  it('retries transport errors, not logical ones', () => {
    expect(isTransientError(new UnavailableError())).toBe(true);
    expect(isTransientError(new SubscriptionEndedError())).toBe(true);
    expect(isTransientError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('grpc unavailable'), { code: 14 }))).toBe(true);
    expect(isTransientError(new AccessDeniedError())).toBe(false);
    expect(isTransientError(new StreamNotFoundError())).toBe(false);
    expect(isTransientError(new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 1n }))).toBe(false);
    expect(isTransientError(new RangeError('bad position'))).toBe(false);
    expect(isTransientError(Object.assign(new Error('permission'), { code: 7 }))).toBe(false);
  });

  it('backs off exponentially with jitter, up to the maximum', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, options, () => 1)).toBe(100);
    expect(backoffDelay(2, options, () => 1)).toBe(200);
    expect(backoffDelay(3, options, () => 1)).toBe(400);
    expect(backoffDelay(10, options, () => 1)).toBe(1000);
    expect(backoffDelay(3, options, () => 0)).toBe(200);
  });
});

describe('runPerKeyInOrder', () => {
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('keeps per-key order, bounds concurrency and returns results in input order', async () => {
    const items = Array.from({ length: 60 }, (_, i) => ({ key: `s${i % 7}`, i }));
    let inFlight = 0;
    let maxInFlight = 0;
    const order = new Map<string, number[]>();
    const results = await runPerKeyInOrder(items, (x) => x.key, 4, async (x) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await tick((x.i * 7) % 5);
      order.set(x.key, [...(order.get(x.key) ?? []), x.i]);
      inFlight -= 1;
      return x.i * 10;
    });
    expect(results).toEqual(items.map((x) => x.i * 10));
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBeGreaterThan(1);
    for (const [key, seen] of order) {
      expect(seen).toEqual(items.filter((x) => x.key === key).map((x) => x.i));
    }
  });

  it('stops starting new work after a failure and throws it once in-flight work settled', async () => {
    const started: number[] = [];
    let settled = 0;
    const failing = runPerKeyInOrder([0, 1, 2, 3, 4, 5], (i) => `k${i}`, 2, async (i) => {
      started.push(i);
      await tick(5);
      settled += 1;
      if (i === 1) throw new Error('boom');
      return i;
    });
    await expect(failing).rejects.toThrow('boom');
    expect(started.length).toBeLessThan(6);
    expect(settled).toBe(started.length);
  });

  it('handles no items', async () => {
    expect(await runPerKeyInOrder([], () => 'k', 16, async () => 1)).toEqual([]);
  });
});

describe('events to EventStoreDB', () => {
  const event = { id: 'c5b1a4a2-3d7e-5f0a-8b1c-0d2e3f4a5b6c', type: 'NewTradeReceived', data: { price: '0.00000001', n: 1 }, metadata: { correlationId: 'REF-1', source: 'CORE', sourceSequence: 7 } };

  it('sends an event that came encoded exactly as the same event given as values', () => {
    expect(toEsdbEvent(encodeEvent(event))).toEqual(toEsdbEvent(event));
    expect(toEsdbEvent(encodeEvent(event))).toMatchObject({ id: event.id, type: event.type, data: event.data, contentType: 'application/json' });
  });

  it("refuses a '$' type, which EventStoreDB would hide as a system event", () => {
    expect(() => toEsdbEvent(encodeEvent({ ...event, type: '$Hidden' }))).toThrow(RangeError);
  });
});
