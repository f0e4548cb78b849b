// Seeing it run, from outside, against real backends: a running `serve` with its
// logs shipped to the OpenTelemetry Collector's splunk_hec receiver and its spans
// sent to the collector's otlp receiver (both into file exporters), RabbitMQ for
// the feed and the integration events.
//
// - After a generated feed is ingested, /metrics sums kepler_feed_records_total to
//   the ingest summaries' accepted and rejected counts, and every follower's gap
//   is 0 when /status says caught up; /health/ready is 200.
// - A command over HTTP and a feed message over AMQP each give ONE trace from the
//   entry span through the append, the trade processor, the booking manager and
//   the projections to the published integration event; a follower's batch span
//   links to it; the log lines of that work carry the same trace_id.
// - The HEC endpoint receives valid envelopes with the token, and every line
//   carries service, version, environment, slot and roles.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFeed, MIXED_RATES, writeFeed } from '../../bench/feed-generator.js';
import { rabbitMq, TestBroker, uniquePrefix, waitFor } from '../messaging/rabbit.js';
import { otelCollector, type Collector, type OtlpSpan } from '../otelcol/collector.js';
import { tempDir, trd, writeFeedFile } from '../support/feed.js';
import { ingest, KeplerServer, runCli, type IngestSummary } from '../support/kepler.js';

const dir = tempDir('kepler-observe-');
const amqpUrl = await rabbitMq();
const collector: Collector | undefined = amqpUrl ? await otelCollector(dir) : undefined;
const TOKEN = 'kepler-test-token-3f9a';

/** `name{a="b",…} value` lines of a Prometheus exposition. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    out.push({ labels, value: Number(match[3]) });
  }
  return out;
}

describe.skipIf(!collector)('seeing it run: metrics, health, logs to Splunk HEC and traces through a real collector', () => {
  const prefix = uniquePrefix('observe');
  let broker: TestBroker;
  let server: KeplerServer;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    broker = await TestBroker.open(amqpUrl!, prefix);
    env = {
      KEPLER_AMQP_URL: amqpUrl!,
      KEPLER_AMQP_PREFIX: prefix,
      KEPLER_SPLUNK_HEC_URL: collector!.hecUrl,
      KEPLER_SPLUNK_HEC_TOKEN: TOKEN,
      KEPLER_SPLUNK_HEC_INDEX: 'kepler-test',
      KEPLER_ENVIRONMENT: 'ci',
      KEPLER_LOG_LEVEL: 'debug',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector!.otlpUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    server = await KeplerServer.start(join(dir, 'data'), { env });
    const live = await runCli(['slot', '--data-dir', join(dir, 'data'), 'live', 'blue'], { env });
    expect(live.code, live.stderr).toBe(0);
  });

  afterAll(async () => {
    await server?.stop();
    await broker?.cleanup();
    await collector?.stop();
  });

  it('after a generated feed is ingested, /metrics adds up to the summaries, and every gap is 0 once caught up', async () => {
    const feed = generateFeed({ seed: 11, trades: 150, filesPerSource: 1, rates: MIXED_RATES, badLines: { wrongLength: 2, badIsin: 2, unknownType: 1, sourceMismatch: 1 }, brokenTrailers: { wrongCount: 1 } });
    const paths = await writeFeed(feed, join(dir, 'feed'));
    const summaries: IngestSummary[] = await ingest(join(dir, 'data'), paths, env);
    // Once more: every line is now a duplicate (or the same rejection, recorded once). Nobody scrapes a
    // CLI run, so it pushes what it saw over OTLP as it exits.
    const again = await ingest(join(dir, 'data'), paths, { ...env, OTEL_METRICS_EXPORTER: 'otlp' });
    const duplicates = again.reduce((sum, s) => sum + s.duplicates, 0);
    expect(duplicates).toBe(summaries.reduce((sum, s) => sum + s.accepted + s.duplicates, 0));
    await waitFor('the CLI run\'s duplicates pushed over OTLP', () => {
      const pushed = collector!.metricPoints().filter((p) => p.name === 'kepler.feed.records' && p.attributes.outcome === 'duplicate');
      return pushed.reduce((sum, p) => sum + p.value, 0) === duplicates;
    });
    expect(collector!.metricPoints().some((p) => p.name === 'db.client.operation.duration' && p.attributes['db.system.name'] === 'sqlite')).toBe(true);
    await server.caughtUp();
    const status = await server.json<{ caughtUp: boolean; head: number; subscriptions: Array<{ name: string; gapEvents: number; gapSeconds: number }> }>('/status');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();

    const records = samples(metrics, 'kepler_feed_records_total');
    const total = (outcome: string) => records.filter((r) => r.labels.outcome === outcome).reduce((sum, r) => sum + r.value, 0);
    expect(total('accepted')).toBe(summaries.reduce((sum, s) => sum + s.accepted, 0));
    expect(total('rejected')).toBe(summaries.reduce((sum, s) => sum + s.rejected, 0));
    expect(total('rejected')).toBeGreaterThan(0);
    expect(records.filter((r) => r.labels.outcome === 'rejected').every((r) => r.labels.reason)).toBe(true);
    // The duplicates were seen by the `kepler ingest` processes, which nobody scraped.
    expect(total('duplicate')).toBe(0);

    expect(status.caughtUp).toBe(true);
    for (const s of status.subscriptions) expect([s.name, s.gapEvents, s.gapSeconds]).toEqual([s.name, 0, 0]);
    const gaps = samples(metrics, 'kepler_subscription_gap_events');
    expect(gaps.map((g) => g.labels.subscription).sort()).toEqual(expect.arrayContaining(['booking-manager', 'projection:feed', 'projection:trades', 'trade-processor']));
    expect(gaps.every((g) => g.value === 0)).toBe(true);
    expect(samples(metrics, 'kepler_subscription_gap_seconds').every((g) => g.value === 0)).toBe(true);
    expect(samples(metrics, 'kepler_eventstore_head_position')[0]!.value).toBe(status.head);
    const trades = await server.all<{ tradeRef: string }>('/trades');
    expect(samples(metrics, 'kepler_trades').reduce((sum, s) => sum + s.value, 0)).toBe(trades.length);
    // Names as the semantic conventions have them, in Prometheus form.
    expect(metrics).toMatch(/^http_server_request_duration_seconds_bucket\{.*http_route="\/status"/m);
    expect(metrics).toMatch(/^db_client_operation_duration_seconds_count\{db_system_name="sqlite"/m);
    // The projections thread's own figures are there too.
    expect(metrics).toMatch(/^kepler_follower_events_total\{subscription="projection:trades",partition="0\/1",thread="projections"\}/m);

    expect((await server.get('/health/live')).status).toBe(200);
    const ready = await server.get<{ status: string; checks: Array<{ name: string; ok: boolean }> }>('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['eventstore', 'readstore', 'follower:trade-processor', 'gap:projection:trades', 'amqp:feed-consumer']));
    expect(samples(metrics, 'kepler_ready')[0]?.value).toBe(1);

    // The management API's statistics lag by seconds (more on a loaded machine): ask until they show the consumer.
    let fromCli: { caughtUp: boolean; queues: { live: string; queues: Array<{ name: string; consumers: number }> } } | null = null;
    await waitFor('kepler status to show the live slot\'s consumer', async () => {
      const cli = await runCli(['status', '--data-dir', join(dir, 'data'), '--json'], { env });
      expect(cli.code, cli.stderr).toBe(0);
      fromCli = JSON.parse(cli.stdout) as NonNullable<typeof fromCli>;
      return fromCli.queues.queues.find((q) => q.name === `${prefix}.feed.blue`)?.consumers === 1;
    }, 30_000, 500);
    expect(fromCli!.caughtUp).toBe(true);
    expect(fromCli!.queues.live).toBe('blue');
  });

  // A command decides on the trade aggregate itself (the trade processor only takes feed records), so its
  // trace runs from the command through its append to the booking manager, the projections and the publisher.
  it('a command over HTTP is one trace from its server span through the append, the booking manager and the projections to the published event; its log lines carry the trace id', async () => {
    const capture = (key: string) =>
      fetch(`${server.url}/trades`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ tradeRef: 'TRACE/HTTP/1', account: 'ACC-1', isin: 'US0378331005', side: 'BUY', quantity: 10, price: '12.5', currency: 'USD', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'CPTY' }),
      });
    expect((await capture('observe-1')).status).toBe(201);
    expect((await capture('observe-1')).headers.get('idempotent-replay')).toBe('true');
    expect((await capture('observe-2')).status).toBe(409);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const commands = samples(metrics, 'kepler_commands_total').filter((c) => c.labels.command === 'POST /trades');
    expect(Object.fromEntries(commands.map((c) => [c.labels.outcome, c.value]))).toEqual({ ok: 2, 'trade-exists': 1 });
    expect(samples(metrics, 'kepler_commands_idempotent_replays_total').find((c) => c.labels.command === 'POST /trades')?.value).toBe(1);
    const entry = await waitForSpan((s) => s.name === 'POST /trades' && s.kind === 2 && s.attributes['http.route'] === '/trades');
    await expectOneTrace(entry, [
      'command POST /trades',
      'append trade-TRACE/HTTP/1',
      /^booking-manager /,
      /^projection:trades /,
      `publish ${prefix}.events.blue`,
    ]);
    await expectLogsInTrace(entry.traceId, ['command answered', 'event handled', 'event projected', 'integration event published']);
    // The booking manager's batch span links to the command's trace (a batch has many parents).
    expect(collector!.spans().some((s) => s.name === 'booking-manager batch' && s.links.some((l) => l.traceId === entry.traceId))).toBe(true);
  });

  it('a feed message over AMQP is one trace from its producer span through the consumer, the append, both processors and the projections to the published event', async () => {
    mkdirSync(join(dir, 'amqp'), { recursive: true });
    const file = writeFeedFile(join(dir, 'amqp'), { name: 'CORE_TRACED_0001.cx1', source: 'CORE', lines: [trd(990001, 'TRACE/AMQP/1')] });
    const published = await runCli(['publish', file], { env });
    expect(published.code, published.stderr).toBe(0);
    const entry = await waitForSpan((s) => s.name === `publish ${prefix}.feed` && s.kind === 4 && s.attributes['messaging.message.id'] === 'CORE_TRACED_0001.cx1:2');
    await expectOneTrace(entry, [`process ${prefix}.feed.blue`, /^append /, /^trade-processor /, /^booking-manager /, /^projection:trades /, `publish ${prefix}.events.blue`]);
    const consumer = collector!.spans().find((s) => s.traceId === entry.traceId && s.name === `process ${prefix}.feed.blue`)!;
    expect(consumer).toMatchObject({ kind: 5, attributes: { 'messaging.system': 'rabbitmq', 'messaging.destination.name': `${prefix}.feed.blue`, 'messaging.rabbitmq.destination.routing_key': 'core' } });
    await expectLogsInTrace(entry.traceId, ['feed message taken', 'event handled', 'integration event published']);

    // The same line again: a duplicate this process saw itself, counted as such on its /metrics.
    expect((await runCli(['publish', file], { env })).code).toBe(0);
    await waitFor('the duplicate on /metrics', async () => {
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      return samples(metrics, 'kepler_feed_records_total').some((r) => r.labels.outcome === 'duplicate' && r.labels.source === 'CORE' && r.value === 1);
    });
  });

  it('ships every line to the HEC endpoint as valid envelopes with the token, with who wrote it and where it belongs', async () => {
    await server.stop(); // SIGTERM: the shipper flushes before the process exits
    await waitFor('log lines at the collector', () => collector!.logs().some((l) => (l.body as { msg?: string }).msg === 'kepler is serving'), 20_000);
    const logs = collector!.logs();
    expect(logs.every((l) => l.resource['com.splunk.hec.access_token'] === TOKEN)).toBe(true);
    expect(logs.every((l) => l.resource['com.splunk.index'] === 'kepler-test' && l.resource['com.splunk.source'] === 'kepler')).toBe(true);
    const serving = logs.find((l) => (l.body as { msg?: string }).msg === 'kepler is serving')!;
    expect(serving.body).toMatchObject({ 'service.name': 'kepler', 'deployment.environment': 'ci', slot: 'blue', roles: expect.stringContaining('processors') });
    expect(serving.body).toHaveProperty('service.version');
    expect(serving.attributes).toMatchObject({ 'service.name': 'kepler', 'deployment.environment': 'ci', slot: 'blue', level: 'info' });
    // The CLI's lines come too (its file summaries), and so do the lines of the work on one trade.
    expect(logs.some((l) => (l.body as { msg?: string; roles?: string }).msg === 'file ingested' && (l.body as { roles?: string }).roles === 'ingest')).toBe(true);
    const handled = logs.map((l) => l.body as Record<string, unknown>).find((b) => b.msg === 'event handled' && b.correlation_id === 'TRACE/HTTP/1');
    expect(handled).toMatchObject({ correlation_id: 'TRACE/HTTP/1', stream: expect.any(String), event_type: expect.any(String), message_id: expect.any(String), trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    // The stop itself was shipped.
    expect(logs.some((l) => (l.body as { msg?: string }).msg?.startsWith('Server listening'))).toBe(true);
  });

  async function waitForSpan(match: (span: OtlpSpan) => boolean): Promise<OtlpSpan> {
    let found: OtlpSpan | undefined;
    await waitFor('the entry span at the collector', () => (found = collector!.spans().find(match)) !== undefined, 30_000, 100);
    return found!;
  }

  /** Every expected span is in the entry's trace, and every span of it descends from the entry. */
  async function expectOneTrace(entry: OtlpSpan, expected: Array<string | RegExp>): Promise<void> {
    const inTrace = () => collector!.spans().filter((s) => s.traceId === entry.traceId);
    const has = (name: string | RegExp) => inTrace().some((s) => (typeof name === 'string' ? s.name === name : name.test(s.name)));
    await waitFor(`spans ${expected.join(', ')} in trace ${entry.traceId}`, () => expected.every(has), 30_000, 100).catch((error: Error) => {
      throw new Error(`${error.message}; the trace has: ${inTrace().map((s) => s.name).join(', ')}`);
    });
    const spans = inTrace();
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    for (const span of spans) {
      let at: OtlpSpan | undefined = span;
      while (at && at.spanId !== entry.spanId) at = byId.get(at.parentSpanId);
      expect(at?.spanId, `${span.name} descends from ${entry.name}`).toBe(entry.spanId);
    }
  }

  async function expectLogsInTrace(traceId: string, messages: string[]): Promise<void> {
    await waitFor(`log lines ${messages.join(', ')} with trace_id ${traceId}`, () => {
      const lines = server.logs.split('\n').filter((line) => line.includes(`"trace_id":"${traceId}"`));
      return messages.every((msg) => lines.some((line) => line.includes(`"msg":"${msg}"`)));
    });
  }
});

describe('readiness', () => {
  it('is 503, naming the followers too far behind, while nothing follows the store; live all the same', async () => {
    const data = join(tempDir('kepler-ready-'), 'data');
    mkdirSync(data, { recursive: true });
    const file = writeFeedFile(data, { name: 'CORE_READY_0001.cx1', source: 'CORE', lines: [trd(1, 'READY/1')] });
    await ingest(data, [file]);
    // Only the query API here, so no follower moves; any gap is too much.
    const server = await KeplerServer.start(data, { args: ['--roles', 'query-api'], env: { KEPLER_READY_MAX_GAP_SECONDS: '0' } });
    try {
      await waitFor('the oldest event to age', async () => (await server.get<{ checks: Array<{ name: string; ok: boolean }> }>('/health/ready')).status === 503);
      const ready = await server.get<{ status: string; checks: Array<{ name: string; ok: boolean; detail?: string }> }>('/health/ready');
      expect(ready.body.status).toBe('not-ready');
      const failing = ready.body.checks.filter((c) => !c.ok);
      expect(failing.map((c) => c.name)).toEqual(expect.arrayContaining(['gap:trade-processor', 'gap:projection:trades']));
      expect(failing[0]!.detail).toMatch(/behind the head/);
      expect(ready.body.checks.filter((c) => c.name === 'eventstore' || c.name === 'readstore').every((c) => c.ok)).toBe(true);
      expect((await server.get('/health/live')).status).toBe(200);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(samples(metrics, 'kepler_ready')[0]?.value).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
