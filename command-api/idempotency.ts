import { createHash } from 'node:crypto';
import { deterministicId, WrongExpectedRevisionError, type EventStore } from '../eventstore/index.js';

export interface StoredResponse {
  requestHash: string;
  status: number;
  body: unknown;
  etag: string | null;
}

/**
 * The first response to each Idempotency-Key, kept in the event store (one stream
 * per key) so keys survive restarts and are shared by every process. Retries are
 * safe even without it: the key also becomes the command's input id, and an
 * aggregate answers an input it has already handled with no new events. The
 * ledger adds the exact first response, and the 422 for a key reused with another
 * request.
 */
export class IdempotencyLedger {
  constructor(private readonly store: EventStore) {}

  static requestHash(method: string, url: string, body: unknown): string {
    return createHash('sha256').update(JSON.stringify([method, url, body ?? null])).digest('hex');
  }

  static inputId(key: string): string {
    return deterministicId('idempotency-key', key);
  }

  async find(key: string): Promise<StoredResponse | null> {
    const [event] = await this.store.readStream(streamOf(key), { maxCount: 1 });
    return event ? (event.data as StoredResponse) : null;
  }

  /** Records the response unless a twin request recorded one first; returns the one that stands. */
  async record(key: string, response: StoredResponse): Promise<StoredResponse> {
    const stream = streamOf(key);
    try {
      await this.store.append(stream, [{ id: deterministicId(stream), type: 'CommandAnswered', data: response, metadata: { correlationId: stream } }], 'no_stream');
      return response;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      return (await this.find(key))!;
    }
  }
}

function streamOf(key: string): string {
  return `idempotency-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}
