// Answers made in one event-loop turn, written together when the turn's I/O callbacks are done.
//
// Under load a turn reads the requests of many connections. Written one by one as each is
// answered, every response wakes the load's other side while this process still has requests
// of the same turn to answer, and the two take turns on the cores request by request. Written
// together at the turn's end (setImmediate: the check phase that follows the poll phase), the
// reads of a turn run back to back and then its writes: `serve`'s main thread spent 17 % less
// CPU a `GET /trades/{ref}` at 16 connections, its load generator 10 % less (BENCHMARKS.md,
// seventh session). Each answer is what it was and leaves in its own write; it only waits for
// the answers of the requests that arrived with it, and one arriving alone is written at once
// after its turn's callbacks (there is no timer between).

/**
 * `send`, deferred to the end of the current turn, in the order called. A send that throws is
 * handed to `failed` with its target, and the others are still sent.
 */
export function atTurnEnd<T, A>(send: (target: T, answer: A) => void, failed: (target: T, error: unknown) => void): (target: T, answer: A) => void {
  // Targets and answers in pairs, one array for the turn: no object or closure per answer.
  let pending: unknown[] = [];
  const flush = (): void => {
    const due = pending;
    pending = [];
    for (let i = 0; i < due.length; i += 2) {
      const target = due[i] as T;
      try {
        send(target, due[i + 1] as A);
      } catch (error) {
        failed(target, error);
      }
    }
  };
  return (target, answer) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(target, answer);
  };
}
