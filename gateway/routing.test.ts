import { describe, expect, it } from 'vitest';
import { approvalTarget, chooseSlot, commandTarget } from './routing.js';

const lineInfo = (line: string) => ({ tradeRef: line.slice(3, 8).trim() || null, type: line.slice(0, 3) });

describe('gateway routing', () => {
  it('reads which stream a command decides on', () => {
    expect(commandTarget('GET', '/trades/T1', undefined, lineInfo)).toBeNull();
    expect(commandTarget('POST', '/trades', { tradeRef: 'T1' }, lineInfo)).toEqual({ kind: 'new-trade', tradeRef: 'T1' });
    expect(commandTarget('POST', '/trades/A%2F1/amendments', {}, lineInfo)).toEqual({ kind: 'trade', tradeRef: 'A/1' });
    expect(commandTarget('POST', '/trades/T1/cancellation', {}, lineInfo)).toEqual({ kind: 'trade', tradeRef: 'T1' });
    expect(commandTarget('PUT', '/trades/T1/allocations/A-1', {}, lineInfo)).toEqual({ kind: 'booking', tradeRef: 'T1' });
    expect(commandTarget('DELETE', '/trades/T1/hold', undefined, lineInfo)).toEqual({ kind: 'booking', tradeRef: 'T1' });
    expect(commandTarget('POST', '/exceptions/e1/resubmission', { line: 'ALCT9   rest' }, lineInfo)).toEqual({ kind: 'booking', tradeRef: 'T9' });
    expect(commandTarget('POST', '/exceptions/e1/resubmission', { line: 'TRDT9   rest' }, lineInfo)).toEqual({ kind: 'trade', tradeRef: 'T9' });
    expect(commandTarget('POST', '/somewhere', {}, lineInfo)).toEqual({ kind: 'unknown' });
  });

  it('sends a four-eyes decision where the request’s action is decided, so the owner carries it out', () => {
    expect(commandTarget('POST', '/approvals/ap%2D1/approval', undefined, lineInfo)).toEqual({ kind: 'approval', approvalId: 'ap-1' });
    expect(commandTarget('POST', '/approvals/ap-1/rejection', {}, lineInfo)).toEqual({ kind: 'approval', approvalId: 'ap-1' });
    expect(commandTarget('GET', '/approvals/ap-1', undefined, lineInfo)).toBeNull();
    expect(approvalTarget({ kind: 'cancel-trade', tradeRef: 'T1' }, lineInfo)).toEqual({ kind: 'trade', tradeRef: 'T1' });
    expect(approvalTarget({ kind: 'resubmit-line', line: 'CNFT9   rest' }, lineInfo)).toEqual({ kind: 'booking', tradeRef: 'T9' });
    expect(approvalTarget({ kind: 'resubmit-line', line: 'AMDT9   rest' }, lineInfo)).toEqual({ kind: 'trade', tradeRef: 'T9' });
    expect(approvalTarget({ kind: 'resubmit-line', line: '???' }, lineInfo)).toEqual({ kind: 'unknown' });
  });

  it('sends to the owner, else the live slot, else any slot that answers', () => {
    expect(chooseSlot('blue', 'green', ['blue', 'green'])).toBe('blue');
    expect(chooseSlot(null, 'green', ['blue', 'green'])).toBe('green');
    expect(chooseSlot(null, null, ['green'])).toBe('green');
    expect(chooseSlot('blue', 'green', ['green'])).toBe('green');
    expect(chooseSlot(null, null, [])).toBeNull();
  });
});
