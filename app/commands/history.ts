import { isoDateIsReal } from '../../domain/index.js';
import { tradesProjection, type TradeView } from '../../projections/index.js';
import type { EventStore, RecordedEvent } from '../../eventstore/index.js';
import type { KeplerConfig } from '../config.js';
import { openEventStore } from '../stores.js';

/**
 * Every event of a trade reference, across all its streams, in global order.
 * The store is scanned once: the received-record streams are keyed by source
 * sequence, not by trade, so only the correlation id ties them together.
 */
export async function eventsOf(store: EventStore, tradeRef: string, until: (event: RecordedEvent) => boolean = () => true): Promise<RecordedEvent[]> {
  const found: RecordedEvent[] = [];
  let position = 0;
  for (;;) {
    const page = await store.readAll(position, { maxCount: 10_000 });
    for (const event of page.events) {
      if (!until(event)) return found;
      if (event.metadata.correlationId === tradeRef) found.push(event);
    }
    position = page.scannedTo;
    if (page.endOfStore) return found;
  }
}

export async function historyCommand(config: KeplerConfig, tradeRef: string, options: { json: boolean }): Promise<number> {
  const store = await openEventStore(config.eventStore);
  try {
    const events = await eventsOf(store, tradeRef);
    if (events.length === 0) {
      process.stderr.write(`kepler history: nothing is known of ${tradeRef}\n`);
      return 1;
    }
    for (const event of events) {
      const m = event.metadata;
      const line = {
        position: event.position,
        recordedAt: event.recordedAt.toISOString(),
        stream: event.stream,
        type: event.type,
        source: m.source ?? null,
        sourceSequence: m.sourceSequence ?? null,
        file: m.file ?? null,
        line: m.line ?? null,
        // Who did it (a principal of the API), and what caused it: null for what a feed sent.
        actor: m.actor ?? null,
        causationId: m.causationId ?? null,
        ...(options.json && { data: event.data }),
      };
      process.stdout.write(
        options.json
          ? `${JSON.stringify(line)}\n`
          : `${String(line.position).padStart(9)}  ${line.recordedAt}  ${line.type.padEnd(34)} ${line.stream.padEnd(24)} ${[line.source, line.sourceSequence].filter((v) => v !== null).join(' #').padEnd(16)} ${line.file ? `${line.file}${line.line ? `:${line.line}` : ''}` : ''}${line.actor ? `  by ${line.actor.subject}` : ''}\n`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}

/** `kepler state REF --at POSITION|ISO-TIME`: the trade as it stood then, by replaying its events up to that point. */
export async function stateCommand(config: KeplerConfig, tradeRef: string, at: string | undefined): Promise<number> {
  const until = pointInTime(at);
  if (until === null) {
    process.stderr.write(`kepler state: --at takes a global position or an ISO date-time, not "${at}"\n`);
    return 2;
  }
  const store = await openEventStore(config.eventStore);
  try {
    const events = await eventsOf(store, tradeRef, until);
    const trade = stateOf(tradeRef, events);
    if (!trade) {
      process.stderr.write(`kepler state: nothing was known of ${tradeRef} at that point\n`);
      return 1;
    }
    process.stdout.write(`${JSON.stringify(trade, null, 2)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** The trades read model's own pure function, folded over the events: the same view the API would have shown. */
export function stateOf(tradeRef: string, events: readonly RecordedEvent[]): Omit<TradeView, 'asOf'> & { asOf: number } | null {
  let view: (Omit<TradeView, 'asOf'> & { asOf: number }) | null = null;
  const types = new Set(tradesProjection.filter.eventTypes);
  for (const event of events) {
    if (!types.has(event.type)) continue;
    const next = tradesProjection.apply(view as TradeView | null, event, tradeRef);
    view = next ? { ...next, asOf: event.position } : null;
  }
  return view;
}

function pointInTime(at: string | undefined): ((event: RecordedEvent) => boolean) | null {
  if (at === undefined) return () => true;
  if (/^\d+$/.test(at)) {
    const position = Number(at);
    return (event) => event.position <= position;
  }
  // Strictly ISO 8601 with a real calendar date: Date.parse alone reads "78.5" as a year and rolls
  // 2026-11-31 over to December.
  if (!ISO_DATE_TIME.test(at) || !isoDateIsReal(at.slice(0, 10))) return null;
  const time = Date.parse(at);
  if (Number.isNaN(time)) return null;
  return (event) => event.recordedAt.getTime() <= time;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?)?$/;
