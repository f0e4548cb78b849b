import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerRegressionApi } from '../../regression/api.js';
import { runRegression } from '../../regression/engine.js';
import { accept, saveLedger } from '../../regression/ledger.js';
import { defineReconciler, eventPayloads, stripIds } from '../../regression/reconciler.js';
import { inline, openEnv, tempDir, thing } from './helpers.js';

const things = defineReconciler({ name: 'things', version: '1', select: { eventTypes: ['ThingHappened'] }, normalise: [eventPayloads(), stripIds()] });
let tmp: ReturnType<typeof tempDir>;
const app = Fastify();

beforeAll(async () => {
  tmp = tempDir();
  const prod = openEnv(join(tmp.dir, 'prod'));
  const uat = openEnv(join(tmp.dir, 'uat'));
  for (let i = 0; i < 30; i++) {
    const cid = `R/${String(i).padStart(2, '0')}`;
    await thing(prod.events, cid, { value: i });
    if (i !== 5) await thing(uat.events, cid, { value: i === 7 || i === 8 ? -1 : i });
  }
  await runRegression({ runDir: join(tmp.dir, 'runs', 'nightly', 'run'), prod: { events: prod.events, reads: null }, uat: { events: uat.events, reads: null }, reconcilers: inline(things), workers: 0 });
  await prod.close();
  await uat.close();
  const ledgerPath = join(tmp.dir, 'known.json');
  saveLedger(ledgerPath, accept({ version: 1, accepted: [] }, { signature: 'things | $ | MISSING_IN_UAT | presence', acceptedBy: 'ops', reason: 'R/05 retired' }));
  registerRegressionApi(app, { runsDir: join(tmp.dir, 'runs'), ledgerPath });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  tmp.cleanup();
});

describe('regression API', () => {
  it('lists runs with their summary', async () => {
    const res = await app.inject('/regression/runs');
    expect(res.statusCode).toBe(200);
    const body = res.json<{ items: Array<{ id: string; totals: { pairs: number }; gate: { failed: boolean } }> }>();
    expect(body.items).toMatchObject([{ id: 'nightly', totals: { pairs: 30 }, gate: { failed: true } }]);
    const one = await app.inject('/regression/runs/nightly');
    expect(one.json()).toMatchObject({ id: 'nightly', totals: { pairs: 30, byVerdict: { MATCHED: 27, DIFFERENT: 2, MISSING_IN_UAT: 1 } }, signatureCounts: { new: 1, accepted: 1 } });
    expect((await app.inject('/regression/runs/nope')).statusCode).toBe(404);
  });

  it('pages through verdicts, filtered', async () => {
    const first = (await app.inject('/regression/runs/nightly/verdicts?limit=20')).json<{ items: Array<{ correlationId: string }>; nextCursor: string }>();
    expect(first.items).toHaveLength(20);
    const second = (await app.inject(`/regression/runs/nightly/verdicts?limit=20&cursor=${first.nextCursor}`)).json<{ items: Array<{ correlationId: string }>; nextCursor: string | null }>();
    expect(second.items).toHaveLength(10);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.items, ...second.items].map((i) => i.correlationId)).size).toBe(30);
    const different = (await app.inject('/regression/runs/nightly/verdicts?verdict=DIFFERENT,MISSING_IN_UAT')).json<{ items: Array<{ correlationId: string; verdict: string; reconcilerVersion: string }> }>();
    expect(different.items.map((i) => `${i.correlationId} ${i.verdict} v${i.reconcilerVersion}`)).toEqual(['R/05 MISSING_IN_UAT v1', 'R/07 DIFFERENT v1', 'R/08 DIFFERENT v1']);
    expect((await app.inject('/regression/runs/nightly/verdicts?verdict=SOMETIMES')).statusCode).toBe(400);
    expect((await app.inject('/regression/runs/nightly/verdicts?cursor=!!')).statusCode).toBe(400);
  });

  it('serves one pair with both sides, its differences and its history', async () => {
    const res = await app.inject(`/regression/runs/nightly/verdicts/things/${encodeURIComponent('R/07')}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      verdict: 'DIFFERENT',
      differences: [{ path: 'events[0].data.value', kind: 'CHANGED', rule: 'exact', prod: 7, uat: -1, signature: 'things | events[].data.value | CHANGED | exact' }],
      prod: { events: [{ type: 'ThingHappened', data: { value: 7 } }] },
      uat: { events: [{ type: 'ThingHappened', data: { value: -1 } }] },
      history: [{ verdict: 'DIFFERENT', reconcilerVersion: '1', cause: 'final' }],
    });
    expect((await app.inject('/regression/runs/nightly/verdicts/things/none')).statusCode).toBe(404);
  });

  it('serves signatures, their pairs and the HTML report', async () => {
    const sigs = (await app.inject('/regression/runs/nightly/signatures?status=new')).json<{ items: Array<{ signature: string; pairs: number }> }>();
    expect(sigs.items).toMatchObject([{ signature: 'things | events[].data.value | CHANGED | exact', pairs: 2 }]);
    const pairs = (await app.inject(`/regression/runs/nightly/signatures/pairs?signature=${encodeURIComponent(sigs.items[0]!.signature)}`)).json<{ items: unknown[] }>();
    expect(pairs.items).toEqual([{ reconciler: 'things', correlationId: 'R/07' }, { reconciler: 'things', correlationId: 'R/08' }]);
    const html = await app.inject('/regression/runs/nightly/report.html');
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toContain('id="report-data"');
  });
});
