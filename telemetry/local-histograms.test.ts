import { ValueType, type Attributes } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, InstrumentType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { LocalHistograms } from './local-histograms.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const constants = {
  histogramPoint: DataPointType.HISTOGRAM,
  delta: AggregationTemporality.DELTA,
  cumulative: AggregationTemporality.CUMULATIVE,
  valueTypeDouble: ValueType.DOUBLE,
  histogramInstrument: InstrumentType.HISTOGRAM,
};

class Reader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** The SDK's own histogram and a local one side by side, read by a cumulative and a delta reader. */
function sideBySide() {
  const resource = resourceFromAttributes({});
  const local = new LocalHistograms(2);
  const cumulative = new Reader({ metricProducers: [local.producer(0, false, constants, resource)] });
  const delta = new Reader({
    aggregationTemporalitySelector: () => AggregationTemporality.DELTA,
    metricProducers: [local.producer(1, true, constants, resource)],
  });
  const provider = new MeterProvider({ resource, readers: [cumulative, delta] });
  const sdk = provider.getMeter('kepler').createHistogram('sdk', { unit: 's', advice: { explicitBucketBoundaries: BUCKETS } });
  const mine = local.histogram('mine', 'described', 's', BUCKETS);
  const record = (value: number, attributes?: Attributes) => {
    sdk.record(value, attributes);
    mine.record(value, attributes);
  };
  return { record, cumulative, delta };
}

/** The two histograms' figures, to compare: everything but the name, description and times. */
async function collect(reader: MetricReader): Promise<{ sdk?: MetricData; mine?: MetricData }> {
  const { resourceMetrics } = await reader.collect();
  const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  const pick = (name: string) => all.find((m) => m.descriptor.name === name);
  return { sdk: pick('sdk'), mine: pick('mine') };
}

function figures(metric: MetricData | undefined) {
  if (!metric) return undefined;
  return {
    temporality: metric.aggregationTemporality,
    type: metric.dataPointType,
    unit: metric.descriptor.unit,
    points: metric.dataPoints
      .map((p) => ({ attributes: p.attributes, value: p.value }))
      .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes))),
  };
}

describe('histograms aggregated locally', () => {
  it('report what the SDK’s own histogram reports, cumulative and delta, over several collections', async () => {
    const { record, cumulative, delta } = sideBySide();
    const route = { 'http.request.method': 'POST', 'http.route': '/trades', 'http.response.status_code': 201 };
    expect(figures((await collect(cumulative)).mine)).toBeUndefined(); // nothing recorded: no metric, as in the SDK
    for (const value of [0, 0.001, 0.0011, 0.01, 0.5, 1, 7, NaN, 0.002]) record(value, route);
    // An equal set built again, keys in another order: the same series.
    record(0.02, { 'http.response.status_code': 201, 'http.route': '/trades', 'http.request.method': 'POST' });
    record(0.03, { 'http.request.method': 'POST', 'http.route': '/trades', 'http.response.status_code': 500 });
    record(0.04);
    for (const reader of [cumulative, delta]) {
      const { sdk, mine } = await collect(reader);
      expect(figures(mine)).toEqual(figures(sdk));
    }
    record(0.2, route);
    for (const reader of [cumulative, delta]) {
      const { sdk, mine } = await collect(reader);
      expect(figures(mine)).toEqual(figures(sdk));
    }
    const { mine } = await collect(delta); // nothing since: the delta reader reports nothing
    expect(mine).toBeUndefined();
    expect((await collect(cumulative)).mine?.dataPoints).toHaveLength(3);
  });

  it('go to the overflow series past the SDK’s cardinality limit, as the SDK’s do', async () => {
    const { record, cumulative } = sideBySide();
    for (let i = 0; i < 2100; i++) record(i / 1000, { n: i });
    const { sdk, mine } = await collect(cumulative);
    expect(figures(mine)).toEqual(figures(sdk));
    expect(mine!.dataPoints.find((p) => p.attributes['otel.metric.overflow'] === true)?.value).toMatchObject({ count: 101 });
  });
});
