// GET /metrics: this process's metrics, and its worker threads', in the
// Prometheus text format.
//
// The OpenTelemetry names become Prometheus names the way the OpenTelemetry
// specification's Prometheus compatibility rules say: dots become underscores,
// the unit becomes a suffix (s → _seconds, By → _bytes; annotations such as
// {event} add nothing) and monotonic counters end in _total. So
// http.server.request.duration is http_server_request_duration_seconds, as a
// collector's Prometheus exporter would name it from the OTLP push.
import type { MetricData, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { collectMetrics } from './sdk.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A worker thread's metrics, asked for at each scrape. */
export type MetricSource = () => Promise<ScopeMetrics[]>;

const sources = new Map<string, MetricSource>();

/** Adds a worker thread's metrics to this process's, each series labelled thread="<name>". Returns the removal. */
export function addMetricSource(thread: string, source: MetricSource): () => void {
  sources.set(thread, source);
  return () => {
    if (sources.get(thread) === source) sources.delete(thread);
  };
}

const UNIT_SUFFIXES: Record<string, string> = { s: 'seconds', ms: 'milliseconds', By: 'bytes', '%': 'percent' };

/** The Prometheus exposition of everything this process measures; null when telemetry is not started. */
export async function prometheusExposition(): Promise<string | null> {
  const own = await collectMetrics();
  if (!own) return null;
  const scopes = [...own.scopeMetrics];
  for (const [thread, source] of sources) {
    try {
      scopes.push(...labelled(await source(), thread));
    } catch {
      // A thread that is stopping answers no more; its series return with it, or go with it.
    }
  }
  const merged: ResourceMetrics = { resource: own.resource, scopeMetrics: mergeByName(scopes) };
  // Loaded on the first scrape, so that processes nobody scrapes (the CLI) never load it.
  const { PrometheusSerializer } = await import('@opentelemetry/exporter-prometheus');
  return new PrometheusSerializer(undefined, false, undefined, false, true).serialize(withUnitSuffixes(merged));
}

function labelled(scopes: ScopeMetrics[], thread: string): ScopeMetrics[] {
  return scopes.map((scope) => ({
    ...scope,
    metrics: scope.metrics.map((metric) => ({ ...metric, dataPoints: metric.dataPoints.map((point) => ({ ...point, attributes: { ...point.attributes, thread } })) }) as MetricData),
  }));
}

/** One family per name: the same metric measured on several threads is one family with more series. */
function mergeByName(scopes: ScopeMetrics[]): ScopeMetrics[] {
  const byName = new Map<string, MetricData>();
  const out: ScopeMetrics[] = [];
  for (const scope of scopes) {
    const metrics: MetricData[] = [];
    for (const metric of scope.metrics) {
      const existing = byName.get(metric.descriptor.name);
      if (existing && existing.dataPointType === metric.dataPointType) {
        (existing.dataPoints as unknown[]).push(...metric.dataPoints);
        continue;
      }
      const copy = { ...metric, dataPoints: [...metric.dataPoints] } as MetricData;
      byName.set(metric.descriptor.name, copy);
      metrics.push(copy);
    }
    if (metrics.length > 0) out.push({ ...scope, metrics });
  }
  return out;
}

export function prometheusName(name: string, unit: string): string {
  const suffix = UNIT_SUFFIXES[unit];
  const base = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return suffix && !base.endsWith(`_${suffix}`) ? `${base}_${suffix}` : base;
}

function withUnitSuffixes(metrics: ResourceMetrics): ResourceMetrics {
  return {
    ...metrics,
    scopeMetrics: metrics.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.map((metric) => ({ ...metric, descriptor: { ...metric.descriptor, name: prometheusName(metric.descriptor.name, metric.descriptor.unit) } }) as MetricData),
    })),
  };
}
