// `kepler regress` as users run it: compiled, in plain Node, with worker threads
// and a directory of TypeScript reconcilers.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../eventstore/index.js';
import type { ReportModel } from '../../regression/report/index.js';
import { compileRegression, run } from './compiled.js';
import { tempDir, verdictsOf } from './helpers.js';

let runner: string;
let tmp: ReturnType<typeof tempDir>;

function booked(cid: string, quantity: number, price = '10.5') {
  return {
    id: randomUUID(),
    type: 'TradeBooked',
    data: { type: 'TradeBooked', tradeRef: cid, inputId: randomUUID(), version: 1, isin: 'US0378331005', side: 'BUY', price, allocations: [{ allocationId: `${cid}-1`, account: 'ACC-1', quantity }] },
    metadata: { correlationId: cid },
  };
}

async function environment(name: string, change: (i: number) => { quantity: number; price?: string } | null): Promise<string> {
  const store = SqliteEventStore.open(join(tmp.dir, name, 'events.db'));
  const appends = [];
  for (let i = 0; i < 400; i++) {
    const cid = `T${String(i).padStart(4, '0')}`;
    const c = change(i);
    if (c) appends.push({ stream: `booking-${cid}`, expectedRevision: 'any' as const, events: [booked(cid, c.quantity, c.price)] });
  }
  await store.appendMany(appends);
  await store.close();
  const config = join(tmp.dir, `${name}.json`);
  writeFileSync(config, JSON.stringify({ dataDir: name }));
  return config;
}

const reconcilerModule = (version: number, tolerance: string) => `// A developer's reconciler: no import path into Kepler needed (the kit is handed in).
import type { ReconcilerKit } from '../../regression/index.js';

export default ({ defineReconciler, eventPayloads, stripIds, stripPositions, keyEventsBy, decimalTolerance }: ReconcilerKit) =>
  defineReconciler({
    name: 'booked-prices',
    version: ${version},
    select: { eventTypes: ['TradeBooked'] },
    normalise: [eventPayloads(), stripIds(), stripPositions(), keyEventsBy({ TradeBooked: (d) => d.version as number })],
    compare: [decimalTolerance('${tolerance}', 'events[TradeBooked].data.price')],
  });
`;

beforeAll(() => {
  tmp = tempDir('kepler-regress-cli-');
  runner = compileRegression();
}, 120_000);
afterAll(() => tmp?.cleanup());

describe('kepler regress (compiled, worker threads)', () => {
  it('compares with worker threads and .ts reconcilers, gates, accepts, and re-judges', async () => {
    const prod = await environment('prod', (i) => ({ quantity: 100 + i }));
    // UAT: T0007 books another quantity, T0011 is missing, T0013 has a price 0.004 off, T0399 is extra.
    const uat = await environment('uat', (i) => (i === 11 ? null : { quantity: 100 + i + (i === 7 ? 1 : 0), ...(i === 13 && { price: '10.504' }) }));
    const extra = SqliteEventStore.open(join(tmp.dir, 'uat', 'events.db'));
    await extra.append('booking-T9999', [booked('T9999', 1)], 'any');
    await extra.close();
    const reconcilers = join(tmp.dir, 'reconcilers');
    mkdirSync(reconcilers);
    writeFileSync(join(reconcilers, 'booked-prices.ts'), reconcilerModule(1, '0'));
    const report = join(tmp.dir, 'report');
    const known = join(tmp.dir, 'known.json');
    const args = ['regress', '--prod', prod, '--uat', uat, '--reconcilers', reconcilers, '--only', 'bookings,booked-prices', '--workers', '2', '--report', report, '--known', known, '--no-progress'];

    const first = await run(runner, args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/2 worker thread\(s\)/);
    const model = JSON.parse(readFileSync(join(report, 'report.json'), 'utf8')) as ReportModel;
    const verdicts = verdictsOf(join(report, 'run'));
    const notMatched = [...verdicts].filter(([, v]) => v.verdict !== 'MATCHED').map(([k, v]) => `${k} ${v.verdict}`).sort();
    expect(notMatched).toEqual([
      'booked-prices/T0007 DIFFERENT',
      'booked-prices/T0011 MISSING_IN_UAT',
      'booked-prices/T0013 DIFFERENT',
      'booked-prices/T9999 MISSING_IN_PROD',
      'bookings/T0007 DIFFERENT',
      'bookings/T0011 MISSING_IN_UAT',
      'bookings/T0013 DIFFERENT',
      'bookings/T9999 MISSING_IN_PROD',
    ]);
    expect(model.signatures.map((s) => s.signature).sort()).toEqual([
      'booked-prices | $ | MISSING_IN_PROD | presence',
      'booked-prices | $ | MISSING_IN_UAT | presence',
      'booked-prices | events[TradeBooked].data.allocations[].quantity | CHANGED | exact',
      'booked-prices | events[TradeBooked].data.price | CHANGED | decimal±0',
      'bookings | $ | MISSING_IN_PROD | presence',
      'bookings | $ | MISSING_IN_UAT | presence',
      'bookings | events[TradeBooked].data.allocations[].quantity | CHANGED | exact',
      'bookings | events[TradeBooked].data.price | CHANGED | exact',
    ]);
    expect(readFileSync(join(report, 'junit.xml'), 'utf8')).toContain('<testsuite name="regression.signatures" tests="8" failures="8"');
    expect(readFileSync(join(report, 'report.html'), 'utf8')).toContain('<script type="application/json" id="report-data">');

    // Accept every signature: the resumed run judges nothing again and passes.
    for (const s of model.signatures) {
      const accepted = await run(runner, ['regress-accept', '--signature', s.signature, '--by', 'qa', '--reason', 'known in release 9', '--known', known]);
      expect(accepted.code, accepted.stderr).toBe(0);
    }
    const second = await run(runner, args);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/compared 0 pair\(s\)/);
    expect(first.stdout).toMatch(/read 400 PROD and 400 UAT events in [\d.]+ s.*compared 802 pair\(s\) in [\d.]+ s/);
    expect(second.stdout).toMatch(/0 new, 8 accepted/);

    // A new version of the reconciler re-judges the stored pairs, without reading the environments.
    writeFileSync(join(reconcilers, 'booked-prices.ts'), reconcilerModule(2, '0.01'));
    const rejudged = await run(runner, ['regress', '--rejudge', '--reconcilers', reconcilers, '--only', 'bookings,booked-prices', '--report', report, '--known', known, '--no-progress']);
    expect(rejudged.code).toBe(0);
    expect(rejudged.stdout).toMatch(/re-judged 401 pair\(s\) of booked-prices/);
    const after = verdictsOf(join(report, 'run'));
    expect(after.get('booked-prices/T0013')).toMatchObject({ verdict: 'MATCHED', version: '2', causes: ['final', 'rejudge'] });
    expect(after.get('booked-prices/T0007')).toMatchObject({ verdict: 'DIFFERENT', version: '2' });
    expect(after.get('bookings/T0007')).toMatchObject({ version: '1', causes: ['final'] });
  });

  it('exits 2 when it cannot run', async () => {
    expect((await run(runner, ['regress', '--prod', join(tmp.dir, 'nope.json'), '--uat', join(tmp.dir, 'nope.json'), '--report', join(tmp.dir, 'r2'), '--no-progress'])).code).toBe(2);
    const bad = await run(runner, ['regress', '--fail-on', 'sometimes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--fail-on/);
    expect((await run(runner, ['regress-accept', '--signature', 'not a signature', '--by', 'x', '--reason', 'y', '--known', join(tmp.dir, 'k.json')])).code).toBe(2);
  });
});
