// Retry delays shared by everything that talks to a server (the store adapters, the AMQP
// consumer and publisher): exponential backoff with jitter, and a sleep that stop() can cut short.

export interface BackoffOptions {
  /** Delay before the first retry (default 100 ms). */
  initialDelayMs?: number;
  /** Cap on any delay (default 30 s). */
  maxDelayMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialDelayMs: 100, maxDelayMs: 30_000, factor: 2 };

/**
 * The delay before retry number `attempt` (1-based): the exponential step,
 * capped, then "equal jitter": half of it fixed, half random. The fixed half
 * keeps a flapping broker from being hammered; the random half keeps a fleet
 * of consumers from reconnecting in lock-step.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialDelayMs, maxDelayMs, factor } = { ...DEFAULT_BACKOFF, ...options };
  const step = Math.min(maxDelayMs, initialDelayMs * factor ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** A sleep that ends early when `signal` aborts; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
