// The dashboard and the alerts as code, against Debian's Prometheus: `promtool
// test rules` gives every alert its unit test, and a private Prometheus (own
// port, temporary storage) scrapes a running Kepler and RabbitMQ's own plugin
// while a feed runs through; through its HTTP API the figures match what was
// ingested, and every PromQL expression of the dashboard and the rules evaluates.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFeed, MIXED_RATES, writeFeed } from '../../bench/feed-generator.js';
import { rabbitMq, TestBroker, uniquePrefix, waitFor } from '../messaging/rabbit.js';
import { freePort } from '../otelcol/collector.js';
import { tempDir } from '../support/feed.js';
import { ingest, KeplerServer, REPO_ROOT, runCli } from '../support/kepler.js';
import { tryStartServer } from '../support/servers.js';

const run = promisify(execFile);
const ALERTS = join(REPO_ROOT, 'ops', 'prometheus', 'alerts.yml');
const DASHBOARD = join(REPO_ROOT, 'ops', 'grafana', 'kepler.json');
/** RabbitMQ's Prometheus plugin (rabbitmq_prometheus). */
const RABBITMQ_PROMETHEUS = process.env.KEPLER_TEST_RABBITMQ_PROMETHEUS ?? '127.0.0.1:15692';

const promtool = await tryStartServer('promtool (Debian package prometheus)', async () => (await run('promtool', ['--version'])).stdout);
const amqpUrl = promtool ? await rabbitMq() : undefined;

describe.skipIf(!promtool)('alerts as code', () => {
  it('every alert rule passes its unit test (promtool test rules)', async () => {
    const { stdout } = await run('promtool', ['test', 'rules', join(REPO_ROOT, 'ops', 'prometheus', 'alerts.test.yml')]);
    expect(stdout).toContain('SUCCESS');
    const alerts = [...readFileSync(ALERTS, 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    const tested = readFileSync(join(REPO_ROOT, 'ops', 'prometheus', 'alerts.test.yml'), 'utf8');
    for (const alert of alerts) expect(tested, `${alert} has a test`).toContain(`alertname: ${alert}`);
  });
});

describe.skipIf(!promtool || !amqpUrl)('Prometheus scraping Kepler and RabbitMQ', () => {
  const dir = tempDir('kepler-prometheus-');
  const prefix = uniquePrefix('prom');
  let broker: TestBroker;
  let server: KeplerServer;
  let prometheus: ChildProcess;
  let api: string;

  beforeAll(async () => {
    broker = await TestBroker.open(amqpUrl!, prefix);
    const env = { KEPLER_AMQP_URL: amqpUrl!, KEPLER_AMQP_PREFIX: prefix };
    server = await KeplerServer.start(join(dir, 'data'), { env });
    expect((await runCli(['slot', '--data-dir', join(dir, 'data'), 'live', 'blue'], { env })).code).toBe(0);
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - ${ALERTS}
scrape_configs:
  - job_name: kepler
    static_configs:
      - targets: ['${new URL(server.url).host}']
  - job_name: rabbitmq
    metrics_path: /metrics/detailed
    params:
      family: [queue_coarse_metrics, queue_consumer_count]
    static_configs:
      - targets: ['${RABBITMQ_PROMETHEUS}']
`,
    );
    prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: 'ignore' });
    await waitFor('Prometheus ready', async () => (await fetch(`${api}/-/ready`).catch(() => null))?.ok === true, 30_000, 200);
  });

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await once(prometheus, 'exit');
    }
    await server?.stop();
    await broker?.cleanup();
  });

  const query = async (expr: string): Promise<{ status: string; error?: string; data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> } }> =>
    (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`)).json() as never;

  it('shows what was ingested, the followers caught up, and the live queue with its consumer', async () => {
    const feed = generateFeed({ seed: 5, trades: 100, filesPerSource: 1, rates: MIXED_RATES, badLines: { wrongLength: 2, unknownType: 1 } });
    const summaries = await ingest(join(dir, 'data'), await writeFeed(feed, join(dir, 'feed')));
    await server.caughtUp();
    const accepted = summaries.reduce((sum, s) => sum + s.accepted, 0);
    const rejected = summaries.reduce((sum, s) => sum + s.rejected, 0);
    const value = async (expr: string) => Number((await query(expr)).data.result[0]?.value[1] ?? NaN);
    await waitFor('the ingested feed in Prometheus', async () => (await value('sum(max without (instance, job) (kepler_feed_records_total{outcome="accepted"}))')) === accepted, 30_000, 250);
    expect(await value('sum(max without (instance, job) (kepler_feed_records_total{outcome="rejected"}))')).toBe(rejected);
    await waitFor('every gap 0', async () => (await value('max(kepler_subscription_gap_events)')) === 0, 30_000, 250);
    expect(await value('max(kepler_subscription_gap_seconds)')).toBe(0);
    expect(await value('kepler_ready')).toBe(1);
    await waitFor('the live queue and its consumer, from RabbitMQ\'s plugin', async () => (await value(`max(rabbitmq_detailed_queue_consumers{queue="${prefix}.feed.blue"})`)) === 1, 30_000, 250);
    expect(await value(`max(kepler_feed_slot_live{queue="${prefix}.feed.blue"})`)).toBe(1);
    expect(await value(`max(kepler_feed_slot_live{queue="${prefix}.feed.green"})`)).toBe(0);
  });

  it('evaluates every PromQL expression of the dashboard and of the alert rules without error', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    const fromDashboard = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$prefix', prefix.replaceAll('.', '\\\\.')) })));
    const fromRules = [...readFileSync(ALERTS, 'utf8').matchAll(/expr: (\|\n((?: {10}.*\n)+)|(.+))/g)].map((m) => ({ where: 'alerts.yml', expr: (m[2] ?? m[3]!).trim() }));
    expect(fromDashboard.length).toBeGreaterThan(20);
    expect(fromRules).toHaveLength(6);
    for (const { where, expr } of [...fromDashboard, ...fromRules]) {
      const answer = await query(expr);
      expect(answer.status, `${where}: ${expr}: ${answer.error}`).toBe('success');
    }
    // The rules were loaded, and none fires on a healthy platform.
    const rules = (await (await fetch(`${api}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Array<{ name: string; health: string; state: string }> }> } };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded).toHaveLength(6);
    await waitFor('the rules evaluated', async () => {
      const again = (await (await fetch(`${api}/api/v1/rules`)).json()) as typeof rules;
      return again.data.groups.flatMap((g) => g.rules).every((r) => r.health === 'ok');
    }, 30_000, 250);
  });
});
