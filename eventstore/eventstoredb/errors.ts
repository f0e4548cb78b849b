// Which EventStoreDB errors are worth trying again, and running appends with bounded concurrency.
import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  InvalidArgumentError,
  MaxAppendSizeExceededError,
  NotFoundError,
  NotLeaderError,
  StreamDeletedError,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  UnknownError,
  UnsupportedError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';

export { backoffDelay, type BackoffOptions } from '../backoff.js';

/** The server (or the network) ended a subscription that nobody closed. */
export class SubscriptionEndedError extends Error {
  constructor() {
    super('EventStoreDB ended the subscription');
    this.name = 'SubscriptionEndedError';
  }
}

// gRPC status codes worth retrying: CANCELLED, UNKNOWN, DEADLINE_EXCEEDED,
// RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE.
const TRANSIENT_GRPC_CODES = new Set([1, 2, 4, 8, 10, 13, 14]);
const TRANSIENT_SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

/**
 * Whether an operation may succeed if tried again. The client itself drops its
 * channel on UNAVAILABLE / CANCELLED / NOT_LEADER and reconnects (to the leader)
 * on the next call; it never retries the call.
 */
export function isTransientError(error: unknown): boolean {
  if (
    error instanceof WrongExpectedVersionError ||
    error instanceof AccessDeniedError ||
    error instanceof InvalidArgumentError ||
    error instanceof NotFoundError ||
    error instanceof StreamNotFoundError ||
    error instanceof StreamDeletedError ||
    error instanceof UnsupportedError ||
    error instanceof MaxAppendSizeExceededError
  ) {
    return false;
  }
  if (
    error instanceof SubscriptionEndedError ||
    error instanceof UnavailableError ||
    error instanceof CancelledError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof NotLeaderError ||
    error instanceof UnknownError
  ) {
    return true;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return TRANSIENT_GRPC_CODES.has(code);
  if (typeof code === 'string') return TRANSIENT_SOCKET_CODES.has(code);
  return false;
}


/**
 * Runs `run` for every item with at most `limit` in flight, items with the same
 * key one after the other in their input order. Results are in input order.
 * When `run` throws, no further item is started and the first error is thrown
 * once the items in flight have settled.
 */
export async function runPerKeyInOrder<T, R>(
  items: readonly T[],
  keyOf: (item: T) => string,
  limit: number,
  run: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  });
  const queue = [...groups.values()];
  const results = new Array<R>(items.length);
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    for (let group = queue.shift(); group && !failure; group = queue.shift()) {
      for (const index of group) {
        if (failure) return;
        try {
          results[index] = await run(items[index]!, index);
        } catch (error) {
          failure ??= { error };
          return;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
  return results;
}

