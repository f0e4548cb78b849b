/** What a watch asks of its connection at each tick. */
export interface ChangeProbe {
  /** SQLite's `PRAGMA data_version`: moves when another connection commits. */
  dataVersion(): number;
  /** The highest position in the store. */
  head(): number;
}

interface Waiter {
  readonly position: number;
  readonly seen: number;
  readonly stopped: () => boolean;
  readonly resolve: () => void;
}

/**
 * One poll of a connection for every follower waiting on it. Each follower at the head polled on a
 * timer of its own, two statements every 10 ms, and `serve`'s main thread has several followers on
 * one connection; a tick now reads `data_version` once, and the head once when some follower needs
 * it, however many followers wait. The polls were never large: an idle `serve`'s main thread used
 * 1.1–1.6 % of a core either way (30 s windows, alternated); what grows with the followers is
 * the timers and statements, not the wake-ups.
 */
export class ChangeWatch {
  private readonly waiting = new Set<Waiter>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly probe: ChangeProbe,
    private readonly intervalMs: number,
  ) {}

  /**
   * Resolves when another connection commits or the store's head passes `position` (seen at a tick),
   * when `stopped()` turns true, or when the returned `wake` is called (this connection's own appends,
   * a subscription closed). The data version is taken now, after the follower's last read.
   */
  wait(position: number, stopped: () => boolean): { changed: Promise<void>; wake: () => void } {
    let waiter!: Waiter;
    const changed = new Promise<void>((resolve) => {
      waiter = { position, seen: this.probe.dataVersion(), stopped, resolve };
    });
    this.waiting.add(waiter);
    this.timer ??= setInterval(() => this.tick(), this.intervalMs);
    return { changed, wake: () => this.release(waiter) };
  }

  /** Every waiter released: the store is closing. */
  releaseAll(): void {
    for (const waiter of [...this.waiting]) this.release(waiter);
  }

  private release(waiter: Waiter): void {
    if (!this.waiting.delete(waiter)) return;
    waiter.resolve();
    if (this.waiting.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private tick(): void {
    for (const waiter of [...this.waiting]) if (waiter.stopped()) this.release(waiter);
    if (this.waiting.size === 0) return;
    const dataVersion = this.probe.dataVersion();
    let head: number | undefined;
    for (const waiter of [...this.waiting]) {
      if (waiter.seen !== dataVersion) this.release(waiter);
      // data_version only moves for other connections' commits; this connection's appends wake directly.
      else if ((head ??= this.probe.head()) > waiter.position) this.release(waiter);
    }
  }
}
