// The OpenTelemetry SDK of a process (or of a worker thread: each has its own).
//
// Metrics are always on: every process that serves HTTP answers GET /metrics
// from a pull reader, and OTEL_METRICS_EXPORTER=otlp also pushes them over OTLP
// (how a short-lived `kepler ingest` reports its work). Tracing is off unless
// the standard variables turn it on (OTEL_TRACES_EXPORTER=otlp|console, or an
// OTEL_EXPORTER_OTLP_ENDPOINT); while it is off no context manager is installed,
// so the hot paths pay nothing for it.
import { context, diag, metrics, propagation, trace, ValueType, type Meter } from '@opentelemetry/api';
import type { MetricReader, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { logShippers } from './hec.js';
import { resourceAttributes, type ServiceIdentity } from './identity.js';
import { LocalHistograms, type SdkConstants } from './local-histograms.js';

interface Running {
  shutdown(): Promise<void>;
  pull: MetricReader;
  tracing: boolean;
  /** Platforms in this process that asked for the SDK: it stops with the last. */
  users: number;
  histograms: LocalHistograms;
}

let running: Running | null = null;
let starting: Promise<void> | null = null;
let generation = 0;

export interface TelemetryStatus {
  tracing: boolean;
  metricsPushed: boolean;
}

function tracingConfigured(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : undefined);
  return exporter !== undefined && exporter !== '' && exporter !== 'none';
}

function metricExporters(env: NodeJS.ProcessEnv): string[] {
  return (env.OTEL_METRICS_EXPORTER ?? '').split(',').map((e) => e.trim()).filter((e) => e === 'otlp' || e === 'console');
}

/**
 * Starts the SDK once per process (or thread); calling it again only counts
 * another user, so several platforms in one test process share it.
 */
export async function startTelemetry(identity: ServiceIdentity, env: NodeJS.ProcessEnv = process.env): Promise<TelemetryStatus> {
  if (starting) await starting;
  if (running) {
    running.users++;
    return { tracing: running.tracing, metricsPushed: metricExporters(env).length > 0 };
  }
  // The standard switch: no SDK at all, so every instrument is the API's no-op one and /metrics answers 503.
  if (env.OTEL_SDK_DISABLED === 'true') return { tracing: false, metricsPushed: false };
  starting = start(identity, env);
  try {
    await starting;
  } finally {
    starting = null;
  }
  return { tracing: running!.tracing, metricsPushed: metricExporters(env).length > 0 };
}

async function start(identity: ServiceIdentity, env: NodeJS.ProcessEnv): Promise<void> {
  const [sdkMetrics, { detectResources, envDetector, hostDetector, resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/resources'),
  ]);
  /** Collected on demand: by GET /metrics. */
  class PullReader extends sdkMetrics.MetricReader {
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {}
  }
  const exporters = metricExporters(env);
  const resource = resourceFromAttributes(resourceAttributes(identity));
  // Histograms are aggregated by Kepler and handed to every reader at collection (see local-histograms.ts).
  const histograms = new LocalHistograms(1 + exporters.length);
  const constants: SdkConstants = {
    histogramPoint: sdkMetrics.DataPointType.HISTOGRAM,
    delta: sdkMetrics.AggregationTemporality.DELTA,
    cumulative: sdkMetrics.AggregationTemporality.CUMULATIVE,
    valueTypeDouble: ValueType.DOUBLE,
    histogramInstrument: sdkMetrics.InstrumentType.HISTOGRAM,
  };
  const pull = new PullReader({ metricProducers: [histograms.producer(0, false, constants, resource)] });
  const readers: MetricReader[] = [pull];
  for (const [i, exporter] of exporters.entries()) {
    const pushTo =
      exporter === 'otlp'
        ? new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter()
        : new sdkMetrics.ConsoleMetricExporter();
    const delta = pushTo.selectAggregationTemporality?.(sdkMetrics.InstrumentType.HISTOGRAM) === sdkMetrics.AggregationTemporality.DELTA;
    readers.push(
      new sdkMetrics.PeriodicExportingMetricReader({
        exporter: pushTo,
        exportIntervalMillis: Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000),
        metricProducers: [histograms.producer(i + 1, delta, constants, resource)],
      }),
    );
  }
  // Not the process detector: the command line it reports may carry a config path or worse.
  const detectors = [envDetector, hostDetector];
  const tracing = tracingConfigured(env);
  let shutdown: () => Promise<void>;
  if (tracing) {
    // The NodeSDK: traces as the standard variables configure them (exporter, sampler, propagators), and the metrics.
    const { NodeSDK } = await import('@opentelemetry/sdk-node');
    const sdk = new NodeSDK({
      resource,
      resourceDetectors: detectors,
      metricReaders: readers,
      logRecordProcessors: [],
      instrumentations: [],
      // A follower's batch span links to every distinct trace in the batch (up to a batch of events).
      spanLimits: { linkCountLimit: 10_000 },
    });
    sdk.start();
    shutdown = () => sdk.shutdown();
  } else {
    // Metrics only: the SDK's meter provider alone. No context manager, no propagator (W3C context is
    // still carried by hand), and none of the tracing and exporter modules the NodeSDK loads at start-up.
    const provider = new sdkMetrics.MeterProvider({ resource: resource.merge(detectResources({ detectors })), readers });
    metrics.setGlobalMeterProvider(provider);
    shutdown = () => provider.shutdown();
  }
  generation++;
  running = { shutdown, pull, tracing, users: 1, histograms };
  observeLogShipping();
}

/** Log records shipped to Splunk HEC, dropped (and why), waiting; whether shipping stopped. */
function observeLogShipping(): void {
  const meter = keplerMeter();
  const shipped = meter.createObservableCounter('kepler.log.records.shipped', { description: 'Log records Splunk HEC accepted', unit: '{record}' });
  const dropped = meter.createObservableCounter('kepler.log.records.dropped', { description: 'Log records not shipped: rejected by HEC, buffer full, or shipping stopped', unit: '{record}' });
  const buffered = meter.createObservableGauge('kepler.log.records.buffered', { description: 'Log records waiting to be shipped', unit: '{record}' });
  const stopped = meter.createObservableGauge('kepler.log.shipping.stopped', { description: '1 once HEC refused the token or index and shipping stopped', unit: '1' });
  const retries = meter.createObservableCounter('kepler.log.shipping.retries', { description: 'HEC requests that failed (busy, unreachable) and were sent again', unit: '{request}' });
  meter.addBatchObservableCallback(
    (result) => {
      const all = [...logShippers()];
      if (all.length === 0) return;
      const sum = (pick: (s: (typeof all)[number]['stats']) => number) => all.reduce((total, shipper) => total + pick(shipper.stats), 0);
      result.observe(shipped, sum((s) => s.shipped));
      for (const reason of ['rejected', 'buffer_full', 'stopped'] as const) result.observe(dropped, sum((s) => s.dropped[reason]), { reason });
      result.observe(buffered, sum((s) => s.buffered));
      result.observe(stopped, all.some((shipper) => shipper.stats.stopped) ? 1 : 0);
      result.observe(retries, sum((s) => s.retries));
    },
    [shipped, dropped, buffered, stopped, retries],
  );
}

/** Flushes what is pending (spans, pushed metrics) and stops the SDK once its last user stops. */
export async function stopTelemetry(): Promise<void> {
  if (!running) return;
  if (--running.users > 0) return;
  const { shutdown } = running;
  running = null;
  try {
    await shutdown();
  } catch (error) {
    diag.error('telemetry shutdown failed', error);
  }
  // Unregister the globals, so that a later start (tests run several platforms one after another) registers its own.
  metrics.disable();
  trace.disable();
  context.disable();
  propagation.disable();
}

/** Whether a process that serves no HTTP (a CLI command) has anything to send: traces, or metrics pushed over OTLP. */
export function telemetryConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return tracingConfigured(env) || metricExporters(env).length > 0;
}

export function tracingEnabled(): boolean {
  return running?.tracing ?? false;
}

/**
 * Tracing is off for as long as this SDK runs: it was started without it, and tracing is only
 * ever decided at start. False while no SDK runs, when a later start might still turn it on.
 */
export function tracingOffWhileRunning(): boolean {
  return running !== null && !running.tracing;
}

/** The histograms Kepler aggregates itself for this SDK; null while it is not started. */
export function localHistograms(): LocalHistograms | null {
  return running?.histograms ?? null;
}

/** The meter every Kepler instrument is created from. */
export function keplerMeter(): Meter {
  return metrics.getMeter('kepler');
}

/**
 * Changes whenever the SDK is (re)started: instruments created before belong to
 * a provider that is gone (or to the no-op one), so cached ones are created again.
 */
export function telemetryGeneration(): number {
  return generation;
}

/** This process's (or thread's) metrics as they stand now. */
export async function collectMetrics(): Promise<ResourceMetrics | null> {
  if (!running) return null;
  const { resourceMetrics, errors } = await running.pull.collect();
  for (const error of errors) diag.error('metric collection', error);
  return resourceMetrics;
}

/** What a worker thread hands its parent: structured-clone safe. */
export async function collectThreadMetrics(): Promise<ScopeMetrics[]> {
  return (await collectMetrics())?.scopeMetrics ?? [];
}
