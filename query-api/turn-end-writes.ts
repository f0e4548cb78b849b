// Answers made in one event-loop turn, written together when the turn's I/O callbacks are done.
//
// Under load a turn reads the requests of many connections. Written one by one as each is
// answered, every response wakes the load's other side while this process still has requests
// of the same turn to answer, and the two take turns on the cores request by request. Written
// together at the turn's end (setImmediate: the check phase that follows the poll phase), the
// reads of a turn run back to back and then its writes: `serve`'s main thread spent about a
// quarter less CPU a `GET /trades/{ref}` at 8, 16 and 32 connections, its load generator less too
// (BENCHMARKS.md, seventh session). Each answer is what it was and leaves in its own write; it
// waits only for a few answers of the requests that arrived with it (a bound, so the latency
// tail does not grow with the turn), and one arriving alone is written at once after its turn's
// callbacks (there is no timer between).

/**
 * `send`, deferred to the end of the current turn, in the order called; once `atMost` answers are
 * held, they are sent at once (so none waits for more than `atMost - 1` others, however many
 * requests a turn brings). A send that throws is handed to `failed` with its target, and the
 * others are still sent.
 */
export function atTurnEnd<T, A>(send: (target: T, answer: A) => void, failed: (target: T, error: unknown) => void, atMost = Infinity): (target: T, answer: A) => void {
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
  const held = 2 * atMost;
  return (target, answer) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(target, answer);
    // The turn's immediate stays queued and finds nothing, or the answers held after these.
    if (pending.length >= held) flush();
  };
}
