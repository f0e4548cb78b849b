// End to end: one CX1 feed through two Kepler instances, the second with a
// deliberate behaviour change (simulated by a modified copy of the feed), then
// `kepler regress` between them. The run must report exactly the affected
// correlation IDs with the right signatures; with the change off, everything
// matches. The HTML report is then checked in a real headless browser.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regress } from '../../app/commands/regress-run.js';
import type { RegressCliOptions } from '../../app/commands/regress.js';
import { loadConfig } from '../../app/config.js';
import { startPlatform } from '../../app/serve.js';
import { isValidIsin } from '../../domain/index.js';
import { SqliteEventStore } from '../../eventstore/index.js';
import { FileIngestor } from '../../ingestion/index.js';
import type { ReportModel } from '../../regression/report/index.js';
import { REPO_ROOT } from '../support/kepler.js';
import { dropAllocationsOf, expectedDifferences, generateTrades, ISINS, roundConfirmationPrices, writeFeed, type Expected, type FeedTrade } from './feed.js';
import { tempDir, until, verdictsOf } from './helpers.js';

const OUTPUT = join(REPO_ROOT, 'test-output', 'regression');
const CHROMIUM = '/usr/bin/chromium';

/** A Kepler instance fed with `trades`, run until every follower caught up, then stopped; returns its config file. */
async function keplerInstance(root: string, name: string, trades: readonly FeedTrade[]): Promise<string> {
  const dataDir = join(root, name);
  const feedDir = join(root, `${name}-feed`);
  mkdirSync(feedDir, { recursive: true });
  const files = writeFeed(feedDir, trades);
  // Followers in this process (tests run from TypeScript sources, which worker threads cannot load).
  const base = loadConfig({ dataDir }, { KEPLER_PROJECTIONS_THREAD: '0' });
  const config = { ...base, http: { ...base.http, host: '127.0.0.1', port: 0 } };
  // Ingest the whole feed first, then let the platform process it: the same order of inputs in every instance.
  const store = SqliteEventStore.open(join(dataDir, 'events.db'));
  const ingestor = new FileIngestor(store);
  for (const file of files) {
    const summary = await ingestor.ingest(file);
    expect(summary.rejected, `${name} ${file}`).toBe(0);
  }
  await store.close();
  const running = await startPlatform(config, pino({ level: 'silent' }));
  try {
    await until(async () => (await running.platform.status()).caughtUp, 30_000, `${name} to catch up`);
  } finally {
    await running.stop();
  }
  const configFile = join(root, `${name}.json`);
  writeFileSync(configFile, JSON.stringify({ dataDir: name }));
  return configFile;
}

async function runRegress(options: RegressCliOptions): Promise<{ code: number; stdout: string; report: ReportModel }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.resume();
  const code = await regress({ progress: false, workers: 0, ...options }, { stdout, stderr, signal: new AbortController().signal });
  const reportFile = join(options.report!, 'report.json');
  const report = (code === 2 ? null : JSON.parse(readFileSync(reportFile, 'utf8'))) as ReportModel;
  return { code, stdout: out, report };
}

/** Per reconciler, each disagreeing correlation ID with its signatures (without the reconciler prefix). */
function reported(runDir: string, report: ReportModel): Expected {
  const out: Expected = {};
  for (const [key, v] of verdictsOf(runDir)) {
    const [reconciler, ...rest] = key.split('/');
    out[reconciler!] ??= new Map();
    if (v.verdict === 'MATCHED') continue;
    out[reconciler!]!.set(rest.join('/'), new Set());
  }
  for (const s of report.signatures) {
    for (const cid of s.examples) expect(out[s.reconciler]!.has(cid), `${s.signature} example ${cid}`).toBe(true);
  }
  return out;
}

function signatureCounts(expected: Expected): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [reconciler, byCid] of Object.entries(expected)) {
    for (const signatures of byCid.values()) for (const s of signatures) counts.set(`${reconciler} | ${s}`, (counts.get(`${reconciler} | ${s}`) ?? 0) + 1);
  }
  return counts;
}

let tmp: ReturnType<typeof tempDir>;
let trades: FeedTrade[];
const configs: Record<'prod' | 'same' | 'alloc' | 'price', string> = { prod: '', same: '', alloc: '', price: '' };

beforeAll(async () => {
  tmp = tempDir('kepler-regress-e2e-');
  trades = generateTrades(40);
  for (const isin of ISINS) expect(isValidIsin(isin)).toBe(true);
  [configs.prod, configs.same, configs.alloc, configs.price] = await Promise.all([
    keplerInstance(tmp.dir, 'prod', trades),
    keplerInstance(tmp.dir, 'uat-same', trades),
    keplerInstance(tmp.dir, 'uat-alloc', dropAllocationsOf(trades, 'ACC-4')),
    keplerInstance(tmp.dir, 'uat-price', roundConfirmationPrices(trades, 2)),
  ]);
}, 120_000);

afterAll(() => tmp?.cleanup());

describe('kepler regress, end to end', () => {
  it('with the behaviour change off, every correlation ID matches and the gate passes', async () => {
    const report = join(tmp.dir, 'report-same');
    const result = await runRegress({ prod: configs.prod, uat: configs.same, report, known: join(tmp.dir, 'none.json') });
    expect(result.code).toBe(0);
    expect(result.report.signatures).toEqual([]);
    const byReconciler = Object.fromEntries(result.report.byReconciler.map((r) => [r.reconciler, r]));
    expect(byReconciler.trades).toMatchObject({ pairs: 40, byVerdict: { MATCHED: 40 } });
    expect(byReconciler.bookings).toMatchObject({ pairs: 40, byVerdict: { MATCHED: 40 } });
    expect(byReconciler.positions!.byVerdict.MATCHED).toBe(byReconciler.positions!.pairs);
    expect(byReconciler.positions!.pairs).toBeGreaterThan(10);
    for (const c of result.report.checksums) expect(c.mismatching).toEqual([]);
    expect(result.stdout).toMatch(/gate \(--fail-on new\): PASS/);
    // The run directory belongs to this comparison: another one is refused, unless started afresh.
    const other = await runRegress({ prod: configs.prod, uat: configs.alloc, report, known: join(tmp.dir, 'none.json') });
    expect(other.code).toBe(2);
    const fresh = await runRegress({ prod: configs.prod, uat: configs.alloc, report, known: join(tmp.dir, 'none.json'), fresh: true });
    expect(fresh.code).toBe(1);
    // The cheap first look: checksums only, no field diffing; positions exist only in PROD.
    const quick = await runRegress({ prod: configs.prod, uat: configs.alloc, report: join(tmp.dir, 'report-quick'), known: join(tmp.dir, 'none.json'), checksumsOnly: true });
    expect(quick.code).toBe(1);
    expect(quick.report.totals.byVerdict.PENDING).toBe(quick.report.totals.pairs);
    expect(quick.stdout).toMatch(/checksums trades: 64\/64 partitions/);
    expect(quick.stdout).toMatch(/checksums positions: \d+\/64 partitions hold the same correlation IDs \(PROD \d+, UAT \d+\); differing: /);
  });

  it('with one account’s allocations dropped, it reports exactly the affected IDs and signatures', async () => {
    const report = join(OUTPUT, 'e2e-alloc');
    const expected = expectedDifferences(trades, dropAllocationsOf(trades, 'ACC-4'));
    expect(expected.trades!.size).toBeGreaterThan(5);
    const result = await runRegress({ prod: configs.prod, uat: configs.alloc, report, runDir: join(tmp.dir, 'run-alloc'), known: join(tmp.dir, 'ledger-alloc.json') });
    expect(result.code).toBe(1);
    const got = reported(join(tmp.dir, 'run-alloc'), result.report);
    for (const reconciler of ['trades', 'bookings', 'positions']) {
      expect([...got[reconciler]!.keys()].sort(), reconciler).toEqual([...expected[reconciler]!.keys()].sort());
    }
    const signatures = new Map(result.report.signatures.map((s) => [s.signature, s.pairs]));
    expect(signatures).toEqual(signatureCounts(expected));
    // Each pair's own signatures are the expected ones.
    for (const pair of result.report.pairs) {
      const want = [...(expected[pair.reconciler]!.get(pair.correlationId) ?? [])].map((s) => `${pair.reconciler} | ${s}`).sort();
      expect(pair.signatures.map((s) => s.signature).sort(), `${pair.reconciler}/${pair.correlationId}`).toEqual(want);
    }
    // The checksums already tell that positions exist only in PROD.
    const positions = result.report.checksums.find((c) => c.reconciler === 'positions')!;
    expect(positions.prodIds - positions.uatIds).toBe([...expected.positions!.values()].filter((s) => s.has('$ | MISSING_IN_UAT | presence')).length);
    expect(result.report.checksums.find((c) => c.reconciler === 'trades')!.mismatching).toEqual([]);
  });

  it('with confirmation prices rounded to 2 places, it reports exactly those trades', async () => {
    const report = join(tmp.dir, 'report-price');
    const expected = expectedDifferences(trades, roundConfirmationPrices(trades, 2));
    const result = await runRegress({ prod: configs.prod, uat: configs.price, report, known: join(tmp.dir, 'ledger-price.json') });
    expect(result.code).toBe(1);
    const got = reported(join(report, 'run'), result.report);
    for (const reconciler of ['trades', 'bookings', 'positions']) {
      expect([...got[reconciler]!.keys()].sort(), reconciler).toEqual([...expected[reconciler]!.keys()].sort());
    }
    expect(new Map(result.report.signatures.map((s) => [s.signature, s.pairs]))).toEqual(signatureCounts(expected));
    expect([...expected.trades!.keys()]).toEqual(trades.filter((t) => t.price.endsWith('.1234') && t.confirmation).map((t) => t.ref));
  });

  it('accepting the signatures in the ledger lets the next run pass, and --fail-on any still fails', async () => {
    const report = join(tmp.dir, 'report-ledger');
    const known = join(tmp.dir, 'ledger-accepted.json');
    const first = await runRegress({ prod: configs.prod, uat: configs.price, report, known });
    expect(first.code).toBe(1);
    const { accept, loadLedger, saveLedger } = await import('../../regression/ledger.js');
    let ledger = loadLedger(known);
    for (const s of first.report.signatures) ledger = accept(ledger, { signature: s.signature, acceptedBy: 'release-manager', reason: 'custody prices are rounded to cents from release 7' });
    saveLedger(known, ledger);
    const second = await runRegress({ prod: configs.prod, uat: configs.price, report, known });
    expect(second.code).toBe(0);
    expect(second.report.signatures.every((s) => s.status === 'accepted')).toBe(true);
    expect(second.stdout).toMatch(/0 new, \d+ accepted/);
    const strict = await runRegress({ prod: configs.prod, uat: configs.price, report, known, failOn: 'any' });
    expect(strict.code).toBe(1);
    const junit = readFileSync(join(report, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites name="Regression: PROD against UAT" tests="\d+" failures="[1-9]/);
    expect(junit).toContain('<failure message="accepted signature');
  });

  it('subtracts noise learned from a PROD-like baseline', async () => {
    const report = join(tmp.dir, 'report-noise');
    // The baseline shares the price rounding with UAT: those signatures are noise.
    const result = await runRegress({ prod: configs.prod, uat: configs.price, baseline: configs.price, report, known: join(tmp.dir, 'none.json') });
    expect(result.code).toBe(0);
    expect(result.report.signatures.length).toBeGreaterThan(0);
    expect(result.report.signatures.every((s) => s.status === 'noise')).toBe(true);
    expect(result.report.noise.learned).toBe(result.report.signatures.length);
  });
});

const haveChromium = existsSync(CHROMIUM);
const chromiumRequired = process.env.KEPLER_REQUIRE_SERVERS === '1';

describe.skipIf(!haveChromium && !chromiumRequired)('the HTML report in a headless browser', () => {
  it('renders, its drill-down works, and a screenshot is kept', async () => {
    if (!haveChromium) throw new Error(`KEPLER_REQUIRE_SERVERS=1 but ${CHROMIUM} is not installed (apt-get install -y chromium)`);
    const report = join(OUTPUT, 'browser');
    const result = await runRegress({ prod: configs.prod, uat: configs.alloc, report, known: join(tmp.dir, 'none.json'), fresh: true });
    expect(result.code).toBe(1);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      const requests: string[] = [];
      page.on('request', (r) => !r.url().startsWith('file:') && !r.url().startsWith('data:') && requests.push(r.url()));
      await page.goto(`file://${join(report, 'report.html')}`);

      // Summary: the gate, the verdict cards, the chart of verdicts over time.
      await expect(page.locator('#gate').innerText()).resolves.toContain('FAIL');
      expect(await page.locator('.card[data-verdict="DIFFERENT"] .n').innerText()).toBe(String(result.report.totals.byVerdict.DIFFERENT));
      expect(await page.locator('#verdict-chart rect').count()).toBeGreaterThan(0);
      expect(await page.locator('#by-reconciler tbody tr').count()).toBe(3);
      await page.screenshot({ path: join(OUTPUT, 'report-summary.png'), fullPage: true });

      // Signatures: one row per signature, each with examples.
      await page.click('a[data-tab="signatures"]');
      expect(await page.locator('#signature-table tbody tr.signature-row').count()).toBe(result.report.signatures.length);

      // Drill-down from an example: both sides, the differences highlighted.
      const changed = result.report.signatures.find((s) => s.signature === 'trades | docs.trades.status | CHANGED | exact')!;
      await page.click(`#signature-table .example[data-reconciler="trades"][data-cid="${changed.examples[0]}"]`);
      await expect(page.locator('#detail-cid').innerText()).resolves.toBe(changed.examples[0]);
      expect(await page.locator('#pairs').isVisible()).toBe(true);
      const rows = page.locator('#difference-table tr.diff-row');
      const pair = result.report.pairs.find((p) => p.reconciler === 'trades' && p.correlationId === changed.examples[0])!;
      expect(await rows.count()).toBe(pair.differences.length);
      const status = page.locator('#side-prod [data-at="docs.trades.status"]');
      expect(await status.getAttribute('class')).toContain('hl-CHANGED');
      expect(await status.innerText()).toBe('"BOOKED"');
      expect(await page.locator('#side-uat [data-at="docs.trades.status"]').innerText()).toBe('"PENDING"');
      expect(await page.locator('#side-prod .hl-MISSING_IN_UAT').count()).toBeGreaterThan(0);
      await page.screenshot({ path: join(OUTPUT, 'report-drilldown.png'), fullPage: true });
      // A difference row points at the value on both sides.
      await rows.first().click();
      expect(await status.getAttribute('class')).toContain('flash');

      // The list filters, and a deep link opens a pair.
      await page.fill('#pair-search', 'ACC-4|');
      const listed = await page.locator('#pair-list li.pair-item').count();
      expect(listed).toBe(result.report.pairs.filter((p) => p.correlationId.startsWith('ACC-4|')).length);
      const missing = result.report.pairs.find((p) => p.verdict === 'MISSING_IN_UAT')!;
      await page.goto(`file://${join(report, 'report.html')}#pair=${encodeURIComponent(`${missing.reconciler}/${missing.correlationId}`)}`);
      await page.reload();
      await expect(page.locator('#detail-cid').innerText()).resolves.toBe(missing.correlationId);
      expect(await page.locator('#side-uat .absent').count()).toBe(1);

      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      expect(existsSync(join(OUTPUT, 'report-drilldown.png'))).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
