// Wake-ups for live subscriptions: one LISTEN connection per store, shared by
// all its subscriptions. A notification, an append by this process, a poll
// interval or the listener coming back all wake the waiters, who then read the
// store themselves; so a notification lost while the listener was away costs
// a poll interval, never an event.
import pg from 'pg';
import { backoffDelay, sleep, type BackoffOptions } from '../backoff.js';
import { EVENTS_CHANNEL } from './schema.js';

export interface NotifierOptions {
  /** Longest wait without a wake-up while the listener is connected. */
  pollIntervalMs: number;
  /** ... and while it is not. */
  fallbackPollIntervalMs: number;
  reconnect: BackoffOptions;
  onListenerError?: (error: unknown, attempt: number) => void;
}

export class Notifier {
  /** Moves on every wake-up: a waiter that saw it move since its read reads again at once. */
  private generation = 0;
  /** The highest head announced so far: a notification of a commit already announced wakes nobody. */
  private announcedHead = 0;
  private waiters = new Set<() => void>();
  private client: pg.Client | null = null;
  private listening = false;
  private started: Promise<void> | null = null;
  private readonly stopped = new AbortController();

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly options: NotifierOptions,
  ) {}

  get current(): number {
    return this.generation;
  }

  get isListening(): boolean {
    return this.listening;
  }

  /** Starts listening (once); subscriptions work meanwhile, by polling. */
  start(): void {
    this.started ??= this.listen();
  }

  /** The store's head is now `head` (an append of this process, or another's notification). */
  advance(head: number): void {
    if (head <= this.announcedHead) return;
    this.announcedHead = head;
    this.wake();
  }

  /** Something may have changed: wake every waiter. */
  wake(): void {
    this.generation += 1;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves on the next wake-up after `seen`, at the poll interval, or when `signal` aborts. */
  waitForChange(seen: number, signal: AbortSignal): Promise<void> {
    if (this.generation !== seen || signal.aborted || this.stopped.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.listening ? this.options.pollIntervalMs : this.options.fallbackPollIntervalMs);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    this.wake();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
    await this.started;
  }

  private async listen(): Promise<void> {
    for (let attempt = 1; !this.stopped.signal.aborted; ) {
      const client = new pg.Client(this.config);
      const lost = new Promise<unknown>((resolve) => {
        client.on('error', resolve);
        client.on('end', () => resolve(new Error('the LISTEN connection ended')));
      });
      try {
        await client.connect();
        client.on('notification', (message) => {
          const head = Number(message.payload);
          if (Number.isSafeInteger(head)) this.advance(head);
          else this.wake();
        });
        await client.query(`LISTEN ${EVENTS_CHANNEL}`);
        if (this.stopped.signal.aborted) {
          await client.end();
          return;
        }
        this.client = client;
        this.listening = true;
        attempt = 1;
        // Anything committed while nobody listened is found by reading again.
        this.wake();
        const error = await lost;
        if (this.stopped.signal.aborted) return;
        throw error;
      } catch (error) {
        this.listening = false;
        this.client = null;
        client.end().catch(() => undefined);
        if (this.stopped.signal.aborted) return;
        this.options.onListenerError?.(error, attempt);
        this.wake();
        await sleep(backoffDelay(attempt++, this.options.reconnect), this.stopped.signal);
      }
    }
  }
}
