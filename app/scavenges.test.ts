import { afterEach, describe, expect, it, vi } from 'vitest';
import { CATCHING_UP_EVENTS, followScavenges, mayChooseScavenges, scavengeAlone } from './scavenges.js';

describe("serve's scavenges", () => {
  afterEach(() => vi.useRealTimers());

  it('are left to Node when it was told either way, on the command line or in NODE_OPTIONS', () => {
    expect(mayChooseScavenges([], undefined)).toBe(true);
    expect(mayChooseScavenges(['--enable-source-maps'], '--max-old-space-size=2048')).toBe(true);
    expect(mayChooseScavenges(['--parallel-scavenge'], undefined)).toBe(false);
    expect(mayChooseScavenges([], '--max-old-space-size=2048  --no-parallel-scavenge')).toBe(false);
    expect(mayChooseScavenges(['--parallel_scavenge'], '')).toBe(false);
  });

  it('run alone at the head, in parallel while some follower catches up', () => {
    expect(scavengeAlone([])).toBe(true);
    expect(scavengeAlone([{ gapEvents: 0 }, { gapEvents: CATCHING_UP_EVENTS }])).toBe(true);
    expect(scavengeAlone([{ gapEvents: 0 }, { gapEvents: CATCHING_UP_EVENTS + 1 }])).toBe(false);
  });

  it('follow the gaps, setting the flag only when the answer changes', async () => {
    vi.useFakeTimers();
    const set: string[] = [];
    const gaps = [[{ gapEvents: 50_000 }], [{ gapEvents: 20_000 }], [{ gapEvents: 3 }], [{ gapEvents: 0 }]];
    let looked = 0;
    const stop = followScavenges(async () => gaps[Math.min(looked++, gaps.length - 1)]!, { execArgv: [], nodeOptions: undefined, set: (flag) => set.push(flag), everyMs: 1000 });
    await vi.advanceTimersByTimeAsync(3000);
    stop();
    await vi.advanceTimersByTimeAsync(3000);
    expect(set).toEqual(['--parallel-scavenge', '--no-parallel-scavenge']);
    expect(looked).toBe(4);
  });

  it('keep the flag when the status cannot be read, and leave it alone when Node was told', async () => {
    vi.useFakeTimers();
    const set: string[] = [];
    const stop = followScavenges(() => Promise.reject(new Error('store away')), { execArgv: [], nodeOptions: undefined, set: (flag) => set.push(flag) });
    const told = followScavenges(async () => [], { execArgv: [], nodeOptions: '--parallel-scavenge', set: (flag) => set.push(flag) });
    await vi.advanceTimersByTimeAsync(2500);
    stop();
    told();
    expect(set).toEqual([]);
  });
});
