import { describe, expect, it } from 'vitest';
import { countedValue, Tally } from './counts.js';
import type { CountedField } from './projection.js';

const BY_STATUS: CountedField = { name: 'byStatus', field: 'status' };
const OPEN_BY_CODE: CountedField = { name: 'openByCode', field: 'code', where: { resolved: false } };

describe('countedValue', () => {
  it('is the field as countBy keys it, or null when the document is absent or outside where', () => {
    expect(countedValue(null, BY_STATUS)).toBeNull();
    expect(countedValue({ status: 'BOOKED' }, BY_STATUS)).toBe('BOOKED');
    expect(countedValue({ status: 3 }, BY_STATUS)).toBe('3');
    expect(countedValue({}, BY_STATUS)).toBe('null');
    expect(countedValue({ code: 'BAD_ISIN', resolved: false }, OPEN_BY_CODE)).toBe('BAD_ISIN');
    expect(countedValue({ code: 'BAD_ISIN', resolved: true }, OPEN_BY_CODE)).toBeNull();
    expect(countedValue({ code: 'BAD_ISIN' }, OPEN_BY_CODE)).toBeNull();
  });
});

describe('Tally', () => {
  it('moves a document from its old value to its new one, and leaves out values nobody has', () => {
    const tally = Tally.empty([BY_STATUS], 0);
    tally.note(null, { status: 'AWAITING_TRADE' }, 1);
    tally.note(null, { status: 'PENDING' }, 2);
    tally.note({ status: 'AWAITING_TRADE' }, { status: 'PENDING' }, 3);
    expect(tally.counts).toEqual({ byStatus: { PENDING: 2 } });
    tally.note({ status: 'PENDING' }, { status: 'BOOKED' }, 4);
    tally.note({ status: 'PENDING' }, null, 5);
    expect(tally.counts).toEqual({ byStatus: { BOOKED: 1 } });
    expect(tally.asOf).toBe(5);
    expect(tally.dirty).toBe(true);
  });

  it('a change that keeps the value counts nothing and leaves the tally clean', () => {
    const tally = Tally.empty([BY_STATUS], 0);
    tally.note({ status: 'PENDING', version: 1 }, { status: 'PENDING', version: 2 }, 7);
    expect(tally.dirty).toBe(false);
    expect(tally.asOf).toBe(0);
  });

  it('counts only documents inside where: resolving an exception takes it out', () => {
    const tally = Tally.empty([OPEN_BY_CODE, BY_STATUS], 0);
    tally.note(null, { code: 'BAD_ISIN', resolved: false }, 1);
    tally.note(null, { code: 'BAD_ISIN', resolved: false }, 2);
    tally.note({ code: 'BAD_ISIN', resolved: false }, { code: 'BAD_ISIN', resolved: true }, 3);
    expect(tally.counts.openByCode).toEqual({ BAD_ISIN: 1 });
  });

  it('an event at or before the stored position is already counted there (a batch applied again after a crash)', () => {
    const stored = Tally.fromDocument([BY_STATUS], { byStatus: { PENDING: 2 }, asOf: 10 });
    const replay = stored.fork();
    replay.note({ status: 'AWAITING_TRADE' }, { status: 'PENDING' }, 9);
    replay.note({ status: 'PENDING' }, { status: 'BOOKED' }, 10);
    expect(replay.dirty).toBe(false);
    replay.note({ status: 'PENDING' }, { status: 'BOOKED' }, 11);
    expect(replay.counts).toEqual({ byStatus: { PENDING: 1, BOOKED: 1 } });
  });

  it('one event changing several documents counts each of them (the rule is per event, not per document)', () => {
    const tally = Tally.fromDocument([BY_STATUS], { byStatus: {}, asOf: 4 }).fork();
    tally.note(null, { status: 'A' }, 5);
    tally.note(null, { status: 'A' }, 5);
    expect(tally.counts).toEqual({ byStatus: { A: 2 } });
  });

  it('a fork is changed apart from what it was forked from, and starts where that one stands', () => {
    const first = Tally.empty([BY_STATUS], 0);
    first.note(null, { status: 'A' }, 3);
    const second = first.fork();
    second.note(null, { status: 'A' }, 3);
    second.note(null, { status: 'A' }, 4);
    expect(first.counts).toEqual({ byStatus: { A: 1 } });
    expect(second.counts).toEqual({ byStatus: { A: 2 } });
    expect(second.toDocument()).toEqual({ byStatus: { A: 2 }, asOf: 4 });
  });
});
