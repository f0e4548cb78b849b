import { describe, expect, it } from 'vitest';
import { dueAt, isDue, judged, newPair, onOutput, verdictOf, type Timing } from './verdict.js';

const timing: Timing = { quietMs: 100, timeoutMs: 1000 };

describe('verdict state machine', () => {
  it('judges when both sides have been quiet for the quiet window', () => {
    let pair = onOutput(newPair(0), 'prod', 0);
    pair = onOutput(pair, 'uat', 40);
    pair = onOutput(pair, 'prod', 60);
    expect(dueAt(pair, timing)).toBe(160);
    expect(isDue(pair, 159, timing)).toBe(false);
    expect(isDue(pair, 160, timing)).toBe(true);
    pair = judged(pair, 'MATCHED');
    expect(pair.state).toBe('MATCHED');
    expect(isDue(pair, 10_000, timing)).toBe(false);
  });

  it('judges a single side at its timeout, once it has settled', () => {
    let pair = onOutput(newPair(0), 'prod', 0);
    expect(dueAt(pair, timing)).toBe(1000);
    pair = onOutput(pair, 'prod', 950);
    expect(dueAt(pair, timing)).toBe(1050);
    expect(judged(pair, 'MISSING_IN_UAT').state).toBe('MISSING_IN_UAT');
  });

  it('judges at the deadline even if a side keeps changing', () => {
    let pair = onOutput(newPair(0), 'prod', 0);
    pair = onOutput(pair, 'uat', 10);
    for (let t = 50; t < 1200; t += 50) pair = onOutput(pair, 'uat', t);
    expect(dueAt(pair, timing)).toBe(1000);
  });

  it('reopens a missing verdict when the late side arrives, and the verdict says late', () => {
    let pair = judged(onOutput(newPair(0), 'prod', 0), 'MISSING_IN_UAT');
    pair = onOutput(pair, 'uat', 5000);
    expect(pair.state).toBe('PENDING');
    expect(pair.late).toBe(true);
    expect(pair.openedAt).toBe(5000);
    expect(dueAt(pair, timing)).toBe(5100);
    expect(judged(pair, 'MATCHED').state).toBe('LATE_MATCH');
    expect(judged(pair, 'DIFFERENT').state).toBe('LATE_DIFFERENT');
  });

  it('reopens a judged pair on new output without calling it late', () => {
    let pair = judged(onOutput(onOutput(newPair(0), 'prod', 0), 'uat', 0), 'MATCHED');
    pair = onOutput(pair, 'prod', 3000);
    expect(pair.state).toBe('PENDING');
    expect(pair.late).toBe(false);
    expect(pair.revision).toBe(3);
    expect(verdictOf(pair, 'DIFFERENT')).toBe('DIFFERENT');
  });

  it('judges everything pending in a final (bounded) pass', () => {
    const pair = onOutput(newPair(0), 'uat', 0);
    expect(isDue(pair, 1, timing, true)).toBe(true);
  });
});
