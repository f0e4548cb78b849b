// A runner reads every event's metadata itself while tracing is on (the trace context each event is
// projected in, the batch span's links): it then follows the store with all of it, whatever its
// projection says it reads (EventFilter.withoutMetadata).
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { passesFilter } from '../eventstore/index.js';
import { unionOf } from './fan-out.js';
import { feedProjection } from './feed.js';
import { PROJECTIONS } from './index.js';
import type { AnyProjection } from './projection.js';
import { followedFilter } from './runner.js';

const tracing = vi.hoisted(() => ({ on: false }));
vi.mock('../telemetry/index.js', async (original) => ({ ...(await original<typeof import('../telemetry/index.js')>()), tracingEnabled: () => tracing.on }));

describe('followedFilter', () => {
  it('is the projection\'s filter while the runner reads no metadata itself, and asks for all of it while tracing', () => {
    const logger = pino({ level: 'info' });
    const feed = feedProjection as unknown as AnyProjection;
    tracing.on = false;
    expect(followedFilter(feed, logger)).toBe(feed.filter);
    expect(unionOf(PROJECTIONS.map((p) => followedFilter(p, logger)))?.withoutMetadata).toBeDefined();
    tracing.on = true;
    const followed = followedFilter(feed, logger);
    expect(followed.withoutMetadata).toBeUndefined();
    // The same events, and the data still left out.
    expect(followed).toEqual({ ...feed.filter, withoutMetadata: undefined });
    expect(followed.withoutData).toEqual(feed.filter.withoutData);
    expect(passesFilter(followed, { type: 'NewTradeReceived', stream: 'core-1' })).toBe(true);
    expect(unionOf(PROJECTIONS.map((p) => followedFilter(p, logger)))?.withoutMetadata).toBeUndefined();
    tracing.on = false;
  });
});
