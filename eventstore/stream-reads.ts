// Whole-stream reads gathered and answered together, for the adapters: a processor loading the
// streams of a batch asks for each on its own, and one statement for many is far cheaper than
// one each (a round trip each on PostgreSQL; a read transaction each on SQLite).
import type { RecordedEvent } from './port.js';

interface Waiter {
  resolve: (events: RecordedEvent[]) => void;
  reject: (error: unknown) => void;
}

export interface StreamReadGathering {
  /** Reads of many whole streams at once: each stream's events in revision order, absent when it has none. */
  readMany(streams: string[]): Map<string, RecordedEvent[]> | Promise<Map<string, RecordedEvent[]>>;
  /** Streams per `readMany`. */
  chunkSize: number;
  /**
   * When the reads asked for so far are made: the adapter's choice of how long to gather (the end of
   * the turn's microtasks, or the next turn of the loop) and of what may happen in between.
   */
  schedule: (flush: () => void) => void;
}

/** Each read joins those asked for before the next flush; a failed statement fails only its own streams' reads. */
export class GatheredStreamReads {
  private pending = new Map<string, Waiter[]>();

  constructor(private readonly gathering: StreamReadGathering) {}

  read(stream: string): Promise<RecordedEvent[]> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(stream);
      if (waiting) waiting.push({ resolve, reject });
      else this.pending.set(stream, [{ resolve, reject }]);
      if (this.pending.size === 1 && !waiting) this.gathering.schedule(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const pending = this.pending;
    this.pending = new Map();
    const names = [...pending.keys()];
    const { chunkSize } = this.gathering;
    for (let i = 0; i < names.length; i += chunkSize) {
      const chunk = names.slice(i, i + chunkSize);
      try {
        const byStream = await this.gathering.readMany(chunk);
        for (const name of chunk) for (const waiter of pending.get(name)!) waiter.resolve(byStream.get(name) ?? []);
      } catch (error) {
        for (const name of chunk) for (const waiter of pending.get(name)!) waiter.reject(error);
      }
    }
  }
}

/** Rows of several streams, ordered by stream then revision, as each stream's events. */
export function eventsByStream<Row>(
  rows: Iterable<Row>,
  streamOf: (row: Row) => string,
  toEvent: (row: Row) => RecordedEvent,
  byStream = new Map<string, RecordedEvent[]>(),
): Map<string, RecordedEvent[]> {
  for (const row of rows) {
    const stream = streamOf(row);
    const events = byStream.get(stream);
    if (events) events.push(toEvent(row));
    else byStream.set(stream, [toEvent(row)]);
  }
  return byStream;
}
