import { describe, expect, it } from 'vitest';
import { followerGaps, followersAtHead } from './followers.js';
import { readiness } from './health.js';
import { subscriptionAttributes } from './instruments.js';
import { prometheusName } from './prometheus.js';

describe('telemetry rules', () => {
  it('names metrics as the Prometheus compatibility rules say: dots to underscores, the unit as a suffix once', () => {
    expect(prometheusName('http.server.request.duration', 's')).toBe('http_server_request_duration_seconds');
    expect(prometheusName('kepler.subscription.gap.seconds', 's')).toBe('kepler_subscription_gap_seconds');
    expect(prometheusName('kepler.feed.records', '{line}')).toBe('kepler_feed_records');
    expect(prometheusName('kepler.log.size', 'By')).toBe('kepler_log_size_bytes');
  });

  it('splits a partitioned follower name into subscription and partition', () => {
    expect(subscriptionAttributes('trade-processor#1of2')).toEqual({ subscription: 'trade-processor', partition: '1/2' });
    expect(subscriptionAttributes('projection:trades')).toEqual({ subscription: 'projection:trades', partition: '0/1' });
  });

  it('measures a gap as positions behind the head and the age of the oldest unhandled event; 0 at the head', async () => {
    const recordedAt = new Date(1_000_000);
    const reads: number[] = [];
    const store = {
      readAll: async (after: number) => {
        reads.push(after);
        return { events: [{ recordedAt }] as never, scannedTo: after + 1, endOfStore: false };
      },
    };
    const gaps = await followerGaps(store, 10, [{ name: 'a', position: 10 }, { name: 'b', position: 4 }, { name: 'c', position: 4 }], 1_030_000);
    expect(gaps).toEqual([
      { name: 'a', position: 10, gapEvents: 0, gapSeconds: 0 },
      { name: 'b', position: 4, gapEvents: 6, gapSeconds: 30 },
      { name: 'c', position: 4, gapEvents: 6, gapSeconds: 30 },
    ]);
    expect(reads).toEqual([4]); // one read per distinct lagging position
  });

  it('is not caught up when a follower appends between the two reads, whichever it lands after', async () => {
    // A processor handling events 9–10 commits its decisions as events 11–12, then moves to 10.
    const run = async (commitAfterFirstRead: boolean) => {
      const world = { head: 10, processor: 8, projection: 10 };
      let reads = 0;
      const commitIfFirst = () => {
        if (reads++ === 0 && commitAfterFirstRead) Object.assign(world, { head: 12, processor: 10 });
      };
      return followersAtHead(
        async () => {
          const positions = [{ name: 'processor', position: world.processor }, { name: 'projection', position: world.projection }];
          commitIfFirst();
          return positions;
        },
        async () => {
          const head = world.head;
          commitIfFirst();
          return head;
        },
      );
    };
    expect((await run(true)).caughtUp).toBe(false);
    expect((await run(false)).caughtUp).toBe(false);
    const after = await followersAtHead(async () => [{ name: 'processor', position: 12 }, { name: 'projection', position: 12 }], async () => 12);
    expect(after).toEqual({ caughtUp: true, head: 12, positions: [{ name: 'processor', position: 12 }, { name: 'projection', position: 12 }] });
  });

  it('is ready only when every store answers, every follower runs and none is too far behind', () => {
    const ok = { name: 'eventstore', ok: true };
    const gap = (gapSeconds: number) => ({ name: 'trade-processor', position: 1, gapEvents: 1, gapSeconds });
    expect(readiness({ stores: [ok], followers: [{ name: 'x', running: true }], gaps: [gap(5)], maxGapSeconds: 60 }).ready).toBe(true);
    expect(readiness({ stores: [{ name: 'readstore', ok: false, detail: 'down' }], followers: [], gaps: [], maxGapSeconds: 60 }).ready).toBe(false);
    expect(readiness({ stores: [ok], followers: [{ name: 'x', running: false }], gaps: [], maxGapSeconds: 60 }).ready).toBe(false);
    const behind = readiness({ stores: [ok], followers: [], gaps: [gap(61)], maxGapSeconds: 60 });
    expect(behind.ready).toBe(false);
    expect(behind.checks.find((c) => !c.ok)?.detail).toMatch(/61\.0 s behind/);
  });
});

describe('command metrics, through the local counters', () => {
  it('shows each route and outcome as a cumulative counter, replays apart, and starts again with the SDK', async () => {
    const { startTelemetry, stopTelemetry } = await import('./sdk.js');
    const { prometheusExposition } = await import('./prometheus.js');
    const { CommandMetrics } = await import('./instruments.js');
    const identity = { name: 'kepler', version: 'test', environment: 'test', slot: 'blue', roles: ['api'] };
    await startTelemetry(identity, {});
    try {
      const metrics = new CommandMetrics();
      metrics.answered('POST /trades', 'ok', false);
      metrics.answered('POST /trades', 'ok', true);
      metrics.answered('POST /trades', 'conflict', false);
      const text = (await prometheusExposition())!;
      expect(text).toMatch(/^kepler_commands_total\{command="POST \/trades",outcome="ok"\} 2$/m);
      expect(text).toMatch(/^kepler_commands_total\{command="POST \/trades",outcome="conflict"\} 1$/m);
      expect(text).toMatch(/^kepler_commands_idempotent_replays_total\{command="POST \/trades"\} 1$/m);
      metrics.answered('POST /trades', 'ok', false);
      expect(await prometheusExposition()).toMatch(/^kepler_commands_total\{command="POST \/trades",outcome="ok"\} 3$/m);
    } finally {
      await stopTelemetry();
    }
    await startTelemetry(identity, {});
    try {
      new CommandMetrics().answered('POST /trades', 'ok', false);
      expect(await prometheusExposition()).toMatch(/^kepler_commands_total\{command="POST \/trades",outcome="ok"\} 1$/m);
    } finally {
      await stopTelemetry();
    }
  });
});

describe('counters, summed locally and read at collection', () => {
  it('sum each attribute set however it is built, drop what a counter cannot add, and start again with the SDK', async () => {
    const { startTelemetry, stopTelemetry } = await import('./sdk.js');
    const { prometheusExposition } = await import('./prometheus.js');
    const { counter } = await import('./instruments.js');
    const identity = { name: 'kepler', version: 'test', environment: 'test', slot: 'blue', roles: ['api'] };
    await startTelemetry(identity, {});
    try {
      const things = counter('kepler.test.things', 'Things', '{thing}');
      const a = { kind: 'a', size: 1 };
      things.add(2, a);
      things.add(1, a);
      things.add(4, { size: 1, kind: 'a' }); // the same set, built again in another order
      things.add(1, { kind: 'b', size: 1 });
      things.add(-5, a);
      things.add(Number.NaN, a);
      things.add(3);
      const text = (await prometheusExposition())!;
      expect(text).toMatch(/^kepler_test_things_total\{kind="a",size="1"\} 7$/m);
      expect(text).toMatch(/^kepler_test_things_total\{kind="b",size="1"\} 1$/m);
      expect(text).toMatch(/^kepler_test_things_total 3$/m);
      expect(text).toMatch(/^# TYPE kepler_test_things_total counter$/m);
    } finally {
      await stopTelemetry();
    }
    await startTelemetry(identity, {});
    try {
      counter('kepler.test.things', 'Things', '{thing}').add(1, { kind: 'a', size: 1 });
      expect(await prometheusExposition()).toMatch(/^kepler_test_things_total\{kind="a",size="1"\} 1$/m);
    } finally {
      await stopTelemetry();
    }
  });
});
