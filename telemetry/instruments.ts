// The instruments of this process's own work. Names follow the OpenTelemetry
// semantic conventions where one exists (http.server.request.duration,
// db.client.operation.duration, messaging.*); Kepler's own start with kepler.
// GET /metrics turns them into Prometheus names (dots to underscores, a unit
// suffix, _total on counters).
//
// Cheap on hot paths: instruments are created once per component, attribute
// sets are built once and reused (a record finds its series by the object's
// identity: histograms and counters are aggregated here and read by the SDK at
// collection, see local-histograms.ts), and recording is per batch or per
// request, never per event (the one exception, delivery lag, records with no
// attributes).
import type { Attributes, Meter, ObservableGauge, ObservableCounter } from '@opentelemetry/api';
import { hashAttributes, NO_ATTRIBUTES, NO_HISTOGRAM, type HistogramRecorder } from './local-histograms.js';
import { keplerMeter, localHistograms, telemetryGeneration } from './sdk.js';

const instruments = new Map<string, unknown>();
let instrumentsGeneration = -1;

/** One instrument per name for the life of an SDK: components created later reuse it. */
function instrument<T>(name: string, create: (meter: Meter) => T): T {
  if (instrumentsGeneration !== telemetryGeneration()) {
    instruments.clear();
    instrumentsGeneration = telemetryGeneration();
  }
  let found = instruments.get(name) as T | undefined;
  if (found === undefined) {
    found = create(keplerMeter());
    instruments.set(name, found);
  }
  return found;
}

/** Latency buckets from 0.5 ms to 10 s (the semantic conventions' HTTP advice, with finer steps at the bottom). */
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Lag and age buckets, from a millisecond to an hour. */
export const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];

/**
 * A histogram in seconds, with these explicit buckets. Aggregated by Kepler rather than by the SDK's
 * synchronous histogram (see local-histograms.ts): the same figures at a fraction of the cost per record.
 */
export function secondsHistogram(name: string, description: string, buckets = SECONDS_BUCKETS): HistogramRecorder {
  return instrument(name, () => localHistograms()?.histogram(name, description, 's', buckets) ?? NO_HISTOGRAM);
}

export interface CounterRecorder {
  add(value: number, attributes?: Attributes): void;
}

const NO_COUNTER: CounterRecorder = { add() {} };

/**
 * A monotonic counter, kept here and read by the SDK when it collects (an
 * asynchronous counter): a synchronous add hashes its attribute set at each
 * call (see local-histograms.ts), where this finds its sum by the identity of
 * the attribute object and adds. The figures are the same cumulative sums,
 * exported the same way (a monotonic sum, _total in Prometheus); a series
 * appears at its first add and starts again with the SDK, as a synchronous
 * counter's would.
 */
export function counter(name: string, description: string, unit = '1'): CounterRecorder {
  return instrument(name, (meter) => {
    if (localHistograms() === null) return NO_COUNTER;
    const byObject = new WeakMap<Attributes, { attributes: Attributes; value: number }>();
    const byHash = new Map<string, { attributes: Attributes; value: number }>();
    meter.createObservableCounter(name, { description, unit }).addCallback((result) => {
      for (const { attributes, value } of byHash.values()) result.observe(value, attributes);
    });
    return {
      add(value: number, attributes: Attributes = NO_ATTRIBUTES): void {
        // The SDK drops a negative (or NaN) add to a counter.
        if (!(value >= 0)) return;
        let sum = byObject.get(attributes);
        if (sum === undefined) {
          const hash = hashAttributes(attributes);
          sum = byHash.get(hash);
          if (sum === undefined) byHash.set(hash, (sum = { attributes, value: 0 }));
          byObject.set(attributes, sum);
        }
        sum.value += value;
      },
    };
  });
}

export function observableCounter(name: string, description: string, unit = '1'): ObservableCounter {
  return instrument(name, (meter) => meter.createObservableCounter(name, { description, unit }));
}

export function observableGauge(name: string, description: string, unit = '1'): ObservableGauge {
  return instrument(name, (meter) => meter.createObservableGauge(name, { description, unit }));
}

export function secondsSince(startedNs: bigint): number {
  return Number(process.hrtime.bigint() - startedNs) / 1e9;
}

/** A follower of the event store (processor, projection): its batches. */
export class FollowerMetrics {
  private readonly duration = secondsHistogram('kepler.follower.batch.duration', 'Time to handle one batch of events, from the read to the durable checkpoint');
  private readonly events = counter('kepler.follower.events', 'Events handed to a follower of the event store', '{event}');
  private readonly attributes: Attributes;

  constructor(subscription: string) {
    this.attributes = subscriptionAttributes(subscription);
  }

  /** A batch handled; an empty one (the subscription saying it is caught up) is not counted. */
  batch(events: number, startedNs: bigint): void {
    if (events === 0) return;
    this.duration.record(secondsSince(startedNs), this.attributes);
    this.events.add(events, this.attributes);
  }
}

/** `trade-processor#1of2` → {subscription: trade-processor, partition: 1/2}. */
export function subscriptionAttributes(name: string): { subscription: string; partition: string } {
  const match = /^(.*)#(\d+)of(\d+)$/.exec(name);
  return match ? { subscription: match[1]!, partition: `${match[2]}/${match[3]}` } : { subscription: name, partition: '0/1' };
}

const BOOKED = { transition: 'booked' } as const;
const REVERSED = { transition: 'reversed' } as const;

/** Bookings made and reversed, as the booking manager appends them. */
export class BookingMetrics {
  private readonly transitions = counter('kepler.booking.transitions', 'Bookings made (booked) and undone (reversed)', '{transition}');

  appended(events: ReadonlyArray<{ type: string }>): void {
    let booked = 0;
    let reversed = 0;
    for (const event of events) {
      if (event.type === 'TradeBooked') booked++;
      else if (event.type === 'BookingReversed') reversed++;
    }
    if (booked > 0) this.transitions.add(booked, BOOKED);
    if (reversed > 0) this.transitions.add(reversed, REVERSED);
  }
}

/** Routes and problem types are few: each pair's attribute set is built once, so a count finds its series by identity. */
const commandAttributes = new Map<string, Map<string, Attributes>>();

/** By route, then by outcome: a key joining the two was a new string to hash at every command. */
function commandAttributesOf(command: string, outcome: string): Attributes {
  let byOutcome = commandAttributes.get(command);
  if (!byOutcome) commandAttributes.set(command, (byOutcome = new Map()));
  let found = byOutcome.get(outcome);
  if (!found) {
    found = outcome === '' ? { command } : { command, outcome };
    byOutcome.set(outcome, found);
  }
  return found;
}

/** Commands over HTTP: their outcomes (ok, or the problem type) and idempotent replays. */
export class CommandMetrics {
  answered(command: string, outcome: string, replayed: boolean): void {
    counter('kepler.commands', 'Commands answered, by route and outcome (ok or the problem type)', '{command}').add(1, commandAttributesOf(command, outcome));
    if (replayed) counter('kepler.commands.idempotent_replays', 'Commands answered from the Idempotency-Key ledger without running again', '{command}').add(1, commandAttributesOf(command, ''));
  }
}
