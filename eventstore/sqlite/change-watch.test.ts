import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChangeWatch, type ChangeProbe } from './change-watch.js';

class Connection implements ChangeProbe {
  version = 1;
  top = 0;
  versionReads = 0;
  headReads = 0;
  dataVersion(): number {
    this.versionReads++;
    return this.version;
  }
  head(): number {
    this.headReads++;
    return this.top;
  }
}

function settled(promise: Promise<void>): () => boolean {
  let done = false;
  void promise.then(() => (done = true));
  return () => done;
}

describe('ChangeWatch: one poll of a connection for every follower at the head', () => {
  let connection: Connection;
  let watch: ChangeWatch;
  beforeEach(() => {
    vi.useFakeTimers();
    connection = new Connection();
    watch = new ChangeWatch(connection, 10);
  });
  afterEach(() => vi.useRealTimers());

  it('reads data_version once a tick, whatever the number of followers, and the head only when data_version stands still', async () => {
    const followers = Array.from({ length: 5 }, () => settled(watch.wait(0, () => false).changed));
    connection.versionReads = 0;
    await vi.advanceTimersByTimeAsync(30);
    expect(connection.versionReads).toBe(3);
    expect(connection.headReads).toBe(3);
    expect(followers.map((done) => done())).toEqual([false, false, false, false, false]);

    connection.version = 2; // another process committed
    connection.headReads = 0;
    await vi.advanceTimersByTimeAsync(10);
    expect(connection.headReads).toBe(0);
    expect(followers.map((done) => done())).toEqual([true, true, true, true, true]);
  });

  it('releases a follower once the head passes its position, and only that one', async () => {
    const behind = settled(watch.wait(5, () => false).changed);
    const ahead = settled(watch.wait(9, () => false).changed);
    connection.top = 7;
    await vi.advanceTimersByTimeAsync(10);
    expect([behind(), ahead()]).toEqual([true, false]);
  });

  it('compares data_version with what it was when each follower began to wait', async () => {
    connection.version = 4;
    const first = settled(watch.wait(0, () => false).changed);
    connection.version = 5;
    const second = settled(watch.wait(0, () => false).changed);
    await vi.advanceTimersByTimeAsync(10);
    expect([first(), second()]).toEqual([true, false]);
  });

  it('lets a follower go when woken, when it stops, or when the store closes, and stops polling with nobody left', async () => {
    let stop = false;
    const woken = watch.wait(0, () => false);
    const stopping = settled(watch.wait(0, () => stop).changed);
    const closing = settled(watch.wait(0, () => false).changed);
    woken.wake();
    await expect(woken.changed).resolves.toBeUndefined();
    stop = true;
    await vi.advanceTimersByTimeAsync(10);
    expect([stopping(), closing()]).toEqual([true, false]);
    watch.releaseAll();
    await vi.advanceTimersByTimeAsync(0);
    expect(closing()).toBe(true);
    connection.versionReads = 0;
    await vi.advanceTimersByTimeAsync(100);
    expect(connection.versionReads).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
