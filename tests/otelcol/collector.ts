// A private OpenTelemetry Collector for a test: the splunk_hec receiver (a real
// HEC implementation) and the otlp receiver, each into a file exporter the test
// reads. Built by tests/otelcol/build.sh (cached); own ports, own directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/kepler.js';
import { tryStartServer } from '../support/servers.js';

export const COLLECTOR = join(REPO_ROOT, 'tests', 'otelcol', 'bin', 'otelcol-kepler');

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Collector {
  /** The HEC base URL (give it as KEPLER_SPLUNK_HEC_URL). */
  hecUrl: string;
  /** The OTLP/HTTP endpoint (give it as OTEL_EXPORTER_OTLP_ENDPOINT). */
  otlpUrl: string;
  /** Log records the HEC receiver took, as OTLP JSON lines. */
  logs(): OtlpLogRecord[];
  spans(): OtlpSpan[];
  /** Sum and gauge data points pushed over OTLP, by metric name. */
  metricPoints(): OtlpMetricPoint[];
  stop(): Promise<void>;
}

export interface OtlpLogRecord {
  resource: Record<string, unknown>;
  attributes: Record<string, unknown>;
  body: unknown;
  timeUnixNano: string;
}

export interface OtlpMetricPoint {
  name: string;
  service: string;
  attributes: Record<string, unknown>;
  value: number;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  links: Array<{ traceId: string; spanId: string }>;
  attributes: Record<string, unknown>;
  service: string;
}

/** The collector (built if need be), or undefined to skip locally / a failure under KEPLER_REQUIRE_SERVERS=1. */
export function otelCollector(dir: string): Promise<Collector | undefined> {
  return tryStartServer('OpenTelemetry Collector', () => startCollector(dir));
}

async function startCollector(dir: string): Promise<Collector> {
  const build = spawnSync('bash', [join(REPO_ROOT, 'tests', 'otelcol', 'build.sh')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 });
  if (build.status !== 0) throw new Error(`tests/otelcol/build.sh failed: ${build.stderr?.toString() ?? build.error?.message}`);
  const [hecPort, otlpPort] = [await freePort(), await freePort()];
  const logsFile = join(dir, 'hec-logs.jsonl');
  const tracesFile = join(dir, 'traces.jsonl');
  const metricsFile = join(dir, 'metrics.jsonl');
  const config = join(dir, 'otelcol.yaml');
  writeFileSync(
    config,
    `receivers:
  splunk_hec:
    endpoint: 127.0.0.1:${hecPort}
    access_token_passthrough: true
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${otlpPort}
exporters:
  file/logs:
    path: ${logsFile}
    flush_interval: 100ms
  file/traces:
    path: ${tracesFile}
    flush_interval: 100ms
  file/metrics:
    path: ${metricsFile}
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [splunk_hec]
      exporters: [file/logs]
    traces:
      receivers: [otlp]
      exporters: [file/traces]
    metrics:
      receivers: [otlp]
      exporters: [file/metrics]
`,
  );
  const child: ChildProcess = spawn(COLLECTOR, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the collector exited ${child.exitCode}: ${stderr}`);
    try {
      const health = await fetch(`http://127.0.0.1:${hecPort}/services/collector/health`);
      const otlp = await fetch(`http://127.0.0.1:${otlpPort}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      if (health.ok && otlp.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the collector did not start: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    hecUrl: `http://127.0.0.1:${hecPort}`,
    otlpUrl: `http://127.0.0.1:${otlpPort}`,
    logs: () => readLines(logsFile).flatMap(logRecords),
    spans: () => readLines(tracesFile).flatMap(spansOf),
    metricPoints: () => readLines(metricsFile).flatMap(metricPointsOf),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

function readLines(file: string): unknown[] {
  if (!existsSync(file)) return [];
  // The exporter may be writing the last line as it is read: only whole lines count.
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.pop();
  return lines.filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as unknown);
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; kvlistValue?: { values?: KeyValue[] }; arrayValue?: { values?: AnyValue[] } };
type KeyValue = { key: string; value: AnyValue };

function valueOf(value: AnyValue | undefined): unknown {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.kvlistValue) return attributes(value.kvlistValue.values ?? []);
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

function attributes(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, valueOf(value)]));
}

function logRecords(line: unknown): OtlpLogRecord[] {
  const { resourceLogs = [] } = line as { resourceLogs?: Array<{ resource?: { attributes?: KeyValue[] }; scopeLogs?: Array<{ logRecords?: Array<{ attributes?: KeyValue[]; body?: AnyValue; timeUnixNano: string }> }> }> };
  return resourceLogs.flatMap((r) =>
    (r.scopeLogs ?? []).flatMap((s) =>
      (s.logRecords ?? []).map((record) => ({ resource: attributes(r.resource?.attributes), attributes: attributes(record.attributes), body: valueOf(record.body), timeUnixNano: record.timeUnixNano })),
    ),
  );
}

function spansOf(line: unknown): OtlpSpan[] {
  type RawSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; links?: Array<{ traceId: string; spanId: string }>; attributes?: KeyValue[] };
  const { resourceSpans = [] } = line as { resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: RawSpan[] }> }> };
  return resourceSpans.flatMap((r) => {
    const service = String(attributes(r.resource?.attributes)['service.name'] ?? '');
    return (r.scopeSpans ?? []).flatMap((s) =>
      (s.spans ?? []).map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
        links: span.links ?? [],
        attributes: attributes(span.attributes),
        service,
      })),
    );
  });
}

function metricPointsOf(line: unknown): OtlpMetricPoint[] {
  type Point = { attributes?: KeyValue[]; asInt?: string | number; asDouble?: number; count?: string | number };
  type Metric = { name: string; sum?: { dataPoints?: Point[] }; gauge?: { dataPoints?: Point[] }; histogram?: { dataPoints?: Point[] } };
  const { resourceMetrics = [] } = line as { resourceMetrics?: Array<{ resource?: { attributes?: KeyValue[] }; scopeMetrics?: Array<{ metrics?: Metric[] }> }> };
  return resourceMetrics.flatMap((r) => {
    const service = String(attributes(r.resource?.attributes)['service.name'] ?? '');
    return (r.scopeMetrics ?? []).flatMap((s) =>
      (s.metrics ?? []).flatMap((metric) =>
        [...(metric.sum?.dataPoints ?? []), ...(metric.gauge?.dataPoints ?? []), ...(metric.histogram?.dataPoints ?? [])].map((point) => ({
          name: metric.name,
          service,
          attributes: attributes(point.attributes),
          value: Number(point.asInt ?? point.asDouble ?? point.count ?? NaN),
        })),
      ),
    );
  });
}
