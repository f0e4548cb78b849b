// Histograms aggregated here and handed to the SDK's readers at collection, as
// a MetricProducer: the same explicit-bucket histograms (name, unit, buckets,
// count, sum, min, max, temporality) in /metrics and over OTLP, without the
// SDK's cost per record. The SDK keys every synchronous record by a hash of its
// attribute set (hashAttributes: Object.keys, sort, JSON.stringify) and looks it
// up in a Map; in a CPU profile of capture-trade that, with the rest of the
// SDK's record path, was about 1.5 % of serve's CPU (1.2–1.5 µs a record, five
// or so records a command: the request, the appends, the followers' batches).
// Here a record finds its cell by the identity of the attribute object (callers
// build each set once and reuse it), and only an object not seen before is
// hashed, as the SDK would hash it.
//
// Only what this process's readers need: one accumulation per reader, reset at
// each collection for a reader that asks for delta temporality, kept for one
// that asks for cumulative (the default, and Prometheus's). No views apply to
// these instruments (Kepler registers none).
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { CollectionResult, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';

export interface HistogramRecorder {
  record(value: number, attributes?: Attributes): void;
}

/** The SDK's default cardinality limit per instrument and reader; past it, records go to the overflow series. */
const CARDINALITY_LIMIT = 2000;
const OVERFLOW: Attributes = Object.freeze({ 'otel.metric.overflow': true });
export const NO_ATTRIBUTES: Attributes = Object.freeze({});

/** What the SDK's module gives the producer: its enums, loaded only where the SDK is. */
export interface SdkConstants {
  histogramPoint: number; // DataPointType.HISTOGRAM
  delta: number; // AggregationTemporality.DELTA
  cumulative: number; // AggregationTemporality.CUMULATIVE
  valueTypeDouble: number; // ValueType.DOUBLE
  histogramInstrument: string; // InstrumentType.HISTOGRAM
}

interface Accumulation {
  counts: number[];
  sum: number;
  count: number;
  min: number;
  max: number;
  start: HrTime;
}

interface Cell {
  attributes: Attributes;
  /** One per reader, by the reader's index. */
  accumulations: Accumulation[];
}

function hrTimeOf(epochMs: number): HrTime {
  const seconds = Math.trunc(epochMs / 1000);
  return [seconds, Math.round((epochMs - seconds * 1000) * 1e6)];
}

/** The SDK's attribute hash (sdk-metrics utils.hashAttributes), so that equal sets share a cell as they would there. */
export function hashAttributes(attributes: Attributes): string {
  const keys = Object.keys(attributes);
  if (keys.length === 0) return '';
  return JSON.stringify(keys.sort().map((key) => [key, attributes[key]]));
}

/** The index of the first boundary ≥ value (sdk-metrics utils.binarySearchUB): the bucket (b[i-1], b[i]]. */
function bucketOf(boundaries: readonly number[], value: number): number {
  let lo = 0;
  let hi = boundaries.length - 1;
  let found = boundaries.length;
  while (hi >= lo) {
    const mid = lo + ((hi - lo) >> 1);
    if (boundaries[mid]! < value) lo = mid + 1;
    else {
      found = mid;
      hi = mid - 1;
    }
  }
  return found;
}

export class LocalHistogram implements HistogramRecorder {
  private readonly byObject = new WeakMap<Attributes, Cell>();
  private readonly byHash = new Map<string, Cell>();

  constructor(
    readonly name: string,
    readonly description: string,
    readonly unit: string,
    readonly boundaries: readonly number[],
    private readonly readers: number,
  ) {}

  record(value: number, attributes: Attributes = NO_ATTRIBUTES): void {
    // The SDK ignores NaN; a non-number cannot get here through the types.
    if (Number.isNaN(value)) return;
    let cell = this.byObject.get(attributes);
    if (cell === undefined) {
      cell = this.cellOf(attributes);
      this.byObject.set(attributes, cell);
    }
    const bucket = bucketOf(this.boundaries, value);
    for (const accumulation of cell.accumulations) {
      accumulation.count++;
      accumulation.sum += value;
      if (value < accumulation.min) accumulation.min = value;
      if (value > accumulation.max) accumulation.max = value;
      accumulation.counts[bucket]!++;
    }
  }

  private cellOf(attributes: Attributes): Cell {
    const hash = hashAttributes(attributes);
    let cell = this.byHash.get(hash);
    if (cell === undefined) {
      if (this.byHash.size >= CARDINALITY_LIMIT - 1) return this.overflow();
      const start = hrTimeOf(Date.now());
      cell = { attributes, accumulations: Array.from({ length: this.readers }, () => this.empty(start)) };
      this.byHash.set(hash, cell);
    }
    return cell;
  }

  private overflow(): Cell {
    const hash = hashAttributes(OVERFLOW);
    let cell = this.byHash.get(hash);
    if (cell === undefined) {
      const start = hrTimeOf(Date.now());
      cell = { attributes: OVERFLOW, accumulations: Array.from({ length: this.readers }, () => this.empty(start)) };
      this.byHash.set(hash, cell);
    }
    return cell;
  }

  private empty(start: HrTime): Accumulation {
    return { counts: new Array<number>(this.boundaries.length + 1).fill(0), sum: 0, count: 0, min: Infinity, max: -Infinity, start };
  }

  /** The reader's data points; for a delta reader, what was recorded since its last collection, which starts again. */
  collect(reader: number, delta: boolean, now: HrTime): Array<{ attributes: Attributes; startTime: HrTime; endTime: HrTime; value: { buckets: { boundaries: number[]; counts: number[] }; sum: number; count: number; min?: number; max?: number } }> {
    const points = [];
    for (const cell of this.byHash.values()) {
      const a = cell.accumulations[reader]!;
      if (delta && a.count === 0) continue;
      points.push({
        attributes: cell.attributes,
        startTime: a.start,
        endTime: now,
        value: {
          buckets: { boundaries: [...this.boundaries], counts: [...a.counts] },
          sum: a.sum,
          count: a.count,
          ...(a.count > 0 && { min: a.min, max: a.max }),
        },
      });
      if (delta) cell.accumulations[reader] = this.empty(now);
    }
    return points;
  }
}

/** The local histograms of one SDK (one start of it): created by name, read by one producer per reader. */
export class LocalHistograms {
  private readonly histograms = new Map<string, LocalHistogram>();

  constructor(private readonly readers: number) {}

  histogram(name: string, description: string, unit: string, boundaries: readonly number[]): HistogramRecorder {
    let found = this.histograms.get(name);
    if (found === undefined) {
      found = new LocalHistogram(name, description, unit, boundaries, this.readers);
      this.histograms.set(name, found);
    }
    return found;
  }

  /** The producer for reader `index` (its place in the SDK's list of readers), in the reader's temporality. */
  producer(index: number, delta: boolean, sdk: SdkConstants, resource: CollectionResult['resourceMetrics']['resource']): MetricProducer {
    return {
      collect: async () => {
        const now = hrTimeOf(Date.now());
        const metrics: MetricData[] = [];
        for (const histogram of this.histograms.values()) {
          const dataPoints = histogram.collect(index, delta, now);
          // As the SDK does: an instrument with nothing to report is left out.
          if (dataPoints.length === 0) continue;
          metrics.push({
            descriptor: {
              name: histogram.name,
              description: histogram.description,
              unit: histogram.unit,
              type: sdk.histogramInstrument,
              valueType: sdk.valueTypeDouble,
              advice: { explicitBucketBoundaries: [...histogram.boundaries] },
            },
            aggregationTemporality: delta ? sdk.delta : sdk.cumulative,
            dataPointType: sdk.histogramPoint,
            dataPoints,
          } as unknown as MetricData);
        }
        return { resourceMetrics: { resource, scopeMetrics: metrics.length > 0 ? [{ scope: { name: 'kepler' }, metrics }] : [] }, errors: [] };
      },
    };
  }
}

/** A histogram of a process whose SDK is not started: records nothing. */
export const NO_HISTOGRAM: HistogramRecorder = { record() {} };
