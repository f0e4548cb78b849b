// How far behind the head of the event store each follower is: the figures
// /status, `kepler status`, /metrics and readiness share.
import type { EventStore } from '../eventstore/index.js';

export interface FollowerPosition {
  name: string;
  position: number;
}

export interface FollowerGap extends FollowerPosition {
  /**
   * Positions between the follower's checkpoint and the head: events, on the
   * embedded store and PostgreSQL, whose positions count events. (On
   * EventStoreDB positions are log offsets, so this is a distance in the log.)
   */
  gapEvents: number;
  /** Age of the oldest event after the checkpoint: how late the follower is; 0 when it is at the head. */
  gapSeconds: number;
}

/** Each follower's gap to `head`; one read per distinct lagging position. */
export async function followerGaps(events: Pick<EventStore, 'readAll'>, head: number, followers: readonly FollowerPosition[], now = Date.now()): Promise<FollowerGap[]> {
  const oldest = new Map<number, Promise<number | null>>();
  const ageAfter = (position: number) => {
    let found = oldest.get(position);
    if (!found) {
      found = events.readAll(position, { maxCount: 1 }).then((page) => page.events[0]?.recordedAt.getTime() ?? null);
      oldest.set(position, found);
    }
    return found;
  };
  return Promise.all(
    followers.map(async ({ name, position }) => {
      if (position >= head) return { name, position, gapEvents: 0, gapSeconds: 0 };
      const recordedAt = await ageAfter(position);
      return { name, position, gapEvents: head - position, gapSeconds: recordedAt === null ? 0 : Math.max(0, (now - recordedAt) / 1000) };
    }),
  );
}

/**
 * Whether every follower has handled everything in the store, with the head it was judged against.
 * The positions are read before the head, never after: a follower's own appends (a processor's
 * decisions) land beyond the events it handled and before its position moves, so a head read first
 * can predate such an append, and followers level with that old head would be called caught up while
 * what was appended meanwhile still waits for them. Read second, the head is at least what it was when
 * the positions were read, so "every position ≥ head" held at that moment.
 */
export async function followersAtHead(
  readPositions: () => Promise<FollowerPosition[]>,
  readHead: () => Promise<number>,
): Promise<{ caughtUp: boolean; head: number; positions: FollowerPosition[] }> {
  const positions = await readPositions();
  const head = await readHead();
  return { caughtUp: positions.every((p) => p.position >= head), head, positions };
}
