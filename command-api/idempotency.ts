import { hash } from 'node:crypto';
import { deterministicId, WrongExpectedRevisionError, type Actor, type EventStore } from '../eventstore/index.js';

/** The answer given to the first request with a key, replayed to every retry. */
export interface StoredResponse {
  requestHash: string;
  status: number;
  body: unknown;
  etag: string | null;
}

/** What a key stands for when a request arrives with it. */
export type KeyState =
  | { kind: 'free' }
  /** A request holds the key and has not answered yet (it is running, or its process died). */
  | { kind: 'claimed'; requestHash: string }
  | { kind: 'answered'; response: StoredResponse };

const CLAIMED = 'IdempotencyKeyClaimed';
const ANSWERED = 'CommandAnswered';

/**
 * Idempotency-Keys, kept in the event store (one stream per key) so they survive
 * restarts and are shared by every process.
 *
 * A request claims its key, with the hash of what it asks, before it runs: the
 * store's "no stream" append lets exactly one request claim it. A request whose
 * key is claimed by another request is a 422 and runs nothing, even while the
 * first is still running. A request that finds its key claimed by the same
 * request (a retry racing the first, or a retry after a crash) runs as well: the
 * key is also the command's input id, so the aggregate answers an input it has
 * already handled with no new events. The first answer recorded is the one every
 * retry gets.
 */
export class IdempotencyLedger {
  constructor(private readonly store: EventStore) {}

  /**
   * What identifies a request: method, route, decoded path parameters and body, with
   * object keys in a fixed order, so that `%2f` and `%2F`, or the same fields in
   * another order, are the same request.
   */
  static requestHash(method: string, route: string, params: unknown, body: unknown): string {
    return hash('sha256', canonicalJson([method, route, params ?? null, body ?? null]), 'hex');
  }

  /**
   * The key a principal's request is filed under: theirs alone, so another principal
   * reusing a key never gets the first one's answer (nor is refused for it).
   */
  static principalKey(subject: string, key: string): string {
    return JSON.stringify([subject, key]);
  }

  static inputId(key: string): string {
    return deterministicId('idempotency-key', key);
  }

  /** What a key's stream says, read after a claim or an answer was refused because the stream exists. */
  private async stateOf(stream: string): Promise<KeyState> {
    const events = await this.store.readStream(stream, { maxCount: 2 });
    const answer = events.find((event) => event.type === ANSWERED);
    if (answer) return { kind: 'answered', response: answer.data as StoredResponse };
    const claim = events[0];
    return claim ? { kind: 'claimed', requestHash: (claim.data as { requestHash: string }).requestHash } : { kind: 'free' };
  }

  /**
   * Claims the key for a request unless it is taken; what the key stands for afterwards, whoever
   * claimed it. The claim is tried first, not after a read: a new key (nearly every request's) costs
   * one append, a key already taken one refused append and then the read.
   */
  async claim(key: string, requestHash: string, actor?: Actor): Promise<Exclude<KeyState, { kind: 'free' }>> {
    const stream = streamOf(key);
    try {
      await this.store.append(stream, [{ id: deterministicId(stream, CLAIMED), type: CLAIMED, data: { requestHash }, metadata: { correlationId: stream, ...(actor && { actor }) } }], 'no_stream');
      return { kind: 'claimed', requestHash };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      const standing = await this.stateOf(stream);
      if (standing.kind === 'free') throw new Error(`idempotency key stream ${stream} exists but is empty`);
      return standing;
    }
  }

  /**
   * Records the answer of a claimed key unless a twin request recorded one first.
   * Returns the answer that stands, and whether it is this one.
   */
  async record(key: string, response: StoredResponse, actor?: Actor): Promise<{ response: StoredResponse; first: boolean }> {
    const stream = streamOf(key);
    try {
      await this.store.append(stream, [{ id: deterministicId(stream, ANSWERED), type: ANSWERED, data: response, metadata: { correlationId: stream, ...(actor && { actor }) } }], 0);
      return { response, first: true };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      const standing = await this.stateOf(stream);
      if (standing.kind !== 'answered') throw new Error(`idempotency key stream ${stream} changed without an answer`);
      return { response: standing.response, first: false };
    }
  }
}

function streamOf(key: string): string {
  // The one-shot digest: no Hash object per call.
  return `idempotency-${hash('sha256', key, 'hex').slice(0, 40)}`;
}

/** JSON with every object's keys sorted: one text per value, whatever order its fields came in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
