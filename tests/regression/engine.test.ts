import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../eventstore/index.js';
import { rejudgeRun, runRegression } from '../../regression/engine.js';
import { accept, loadLedger, saveLedger } from '../../regression/ledger.js';
import { decimalTolerance, defineReconciler, eventPayloads, stripIds } from '../../regression/reconciler.js';
import { buildReport } from '../../regression/report/index.js';
import { RunStore } from '../../regression/store.js';
import { inline, openEnv, tempDir, thing, until, verdictMap, verdictsOf, type Env } from './helpers.js';

const things = (version = '1', tolerance?: string) =>
  defineReconciler({
    name: 'things',
    version,
    select: { eventTypes: ['ThingHappened'] },
    normalise: [eventPayloads(), stripIds()],
    compare: tolerance ? [decimalTolerance(tolerance, 'events[].data.value')] : [],
  });

let tmp: ReturnType<typeof tempDir>;
let prod: Env;
let uat: Env;
beforeEach(() => {
  tmp = tempDir();
  prod = openEnv(join(tmp.dir, 'prod'));
  uat = openEnv(join(tmp.dir, 'uat'));
});
afterEach(async () => {
  await prod.close();
  await uat.close();
  tmp.cleanup();
});

async function seed() {
  for (const cid of ['A', 'B', 'C', 'D', 'E']) await thing(prod.events, cid, { value: '10.00' });
  for (const cid of ['A', 'B', 'E']) await thing(uat.events, cid, { value: '10.00' });
  await thing(uat.events, 'C', { value: '10.004' });
  await thing(uat.events, 'F', { value: '1' });
}

const envs = () => ({ prod: { label: 'PROD', events: prod.events, reads: null }, uat: { label: 'UAT', events: uat.events, reads: null } });

describe('regression engine (batch)', () => {
  it('judges every correlation ID: matched, different, missing on either side', async () => {
    await seed();
    const runDir = join(tmp.dir, 'run');
    const outcome = await runRegression({ runDir, ...envs(), reconcilers: inline(things()), workers: 0, shards: 3, partitions: 8 });
    expect(outcome.status).toBe('completed');
    expect(verdictMap(runDir)).toEqual({
      'things/A': 'MATCHED',
      'things/B': 'MATCHED',
      'things/C': 'DIFFERENT',
      'things/D': 'MISSING_IN_UAT',
      'things/E': 'MATCHED',
      'things/F': 'MISSING_IN_PROD',
    });
    const report = buildReport(runDir);
    expect(report.signatures.map((s) => [s.signature, s.pairs, s.examples])).toEqual([
      ['things | $ | MISSING_IN_PROD | presence', 1, ['F']],
      ['things | $ | MISSING_IN_UAT | presence', 1, ['D']],
      ['things | events[].data.value | CHANGED | exact', 1, ['C']],
    ]);
    const c = report.pairs.find((p) => p.correlationId === 'C')!;
    expect(c.differences).toMatchObject([{ path: 'events[0].data.value', prod: '10.00', uat: '10.004', prodAt: 'events[0].data.value' }]);
    // Checksums: the partitions holding D and F differ; the rest agree.
    const [checksum] = report.checksums;
    expect(checksum).toMatchObject({ reconciler: 'things', partitions: 8, prodIds: 5, uatIds: 5 });
    expect(checksum!.mismatching.length).toBeGreaterThanOrEqual(1);
    expect(checksum!.mismatching.length).toBeLessThanOrEqual(2);
    expect(report.gate).toMatchObject({ failed: true });
  });

  it('resumes and never judges twice; a side that arrives later reopens its verdict as late', async () => {
    await seed();
    const runDir = join(tmp.dir, 'run');
    const options = { runDir, ...envs(), reconcilers: inline(things()), workers: 0 };
    await runRegression(options);
    const first = verdictsOf(runDir);
    const again = await runRegression(options);
    expect(again.judged).toBe(0);
    expect(verdictsOf(runDir)).toEqual(first);
    for (const v of first.values()) expect(v.log).toBe(1);

    await thing(uat.events, 'D', { value: '10.00' });
    await thing(prod.events, 'F', { value: '2' });
    const third = await runRegression(options);
    expect(third.judged).toBe(2);
    const after = verdictsOf(runDir);
    expect(after.get('things/D')).toMatchObject({ verdict: 'LATE_MATCH', log: 2 });
    expect(after.get('things/F')).toMatchObject({ verdict: 'LATE_DIFFERENT', log: 2 });
    expect(after.get('things/A')).toMatchObject({ verdict: 'MATCHED', log: 1 });
  });

  it('survives a crash mid-run: the restarted run resumes and judges each pair once', async () => {
    for (let i = 0; i < 300; i++) {
      await thing(prod.events, `T${i}`, { value: String(i) });
      await thing(uat.events, `T${i}`, { value: String(i % 50 === 0 ? i + 1 : i) });
    }
    const runDir = join(tmp.dir, 'run');
    let reads = 0;
    const flaky: EventStore = new Proxy(uat.events, {
      get(target, prop, receiver) {
        if (prop === 'readAll') {
          return async (...args: Parameters<EventStore['readAll']>) => {
            if (++reads === 3) throw new Error('simulated crash');
            return target.readAll(...args);
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const base = { runDir, reconcilers: inline(things()), workers: 0, batchSize: 50 };
    await expect(runRegression({ ...base, prod: { events: prod.events, reads: null }, uat: { events: flaky, reads: null } })).rejects.toThrow('simulated crash');
    const outcome = await runRegression({ ...base, prod: { events: prod.events, reads: null }, uat: { events: uat.events, reads: null } });
    expect(outcome.status).toBe('completed');
    const verdicts = verdictsOf(runDir);
    expect(verdicts.size).toBe(300);
    for (const [key, v] of verdicts) {
      expect(v.log, key).toBe(1);
      const i = Number(key.slice('things/T'.length));
      expect(v.verdict, key).toBe(i % 50 === 0 ? 'DIFFERENT' : 'MATCHED');
    }
  });
});

describe('re-judging', () => {
  it('re-evaluates stored pairs when the reconciler version changes, without reading the environments', async () => {
    await seed();
    const runDir = join(tmp.dir, 'run');
    await runRegression({ runDir, ...envs(), reconcilers: inline(things('1')), workers: 0 });
    expect(verdictMap(runDir)['things/C']).toBe('DIFFERENT');
    // The environments are gone: re-judging needs only the run.
    await prod.close();
    await uat.close();
    const result = await rejudgeRun({ runDir, reconcilers: inline(things('2', '0.01')) });
    expect(result.reconcilers).toEqual(['things']);
    expect(result.rejudged).toBe(6);
    const verdicts = verdictsOf(runDir);
    expect(verdicts.get('things/C')).toMatchObject({ verdict: 'MATCHED', version: '2', causes: ['final', 'rejudge'] });
    expect(verdicts.get('things/D')).toMatchObject({ verdict: 'MISSING_IN_UAT', version: '2' });
    const again = await rejudgeRun({ runDir, reconcilers: inline(things('2', '0.01')) });
    expect(again.rejudged).toBe(0);
    prod = openEnv(join(tmp.dir, 'prod'));
    uat = openEnv(join(tmp.dir, 'uat'));
  });

  it('re-judges automatically when a run resumes with a new reconciler version', async () => {
    await seed();
    const runDir = join(tmp.dir, 'run');
    await runRegression({ runDir, ...envs(), reconcilers: inline(things('1')), workers: 0 });
    const outcome = await runRegression({ runDir, ...envs(), reconcilers: inline(things('2', '0.01')), workers: 0 });
    expect(outcome.rejudgedReconcilers).toEqual(['things']);
    expect(outcome.rejudged).toBe(6);
    expect(verdictsOf(runDir).get('things/C')).toMatchObject({ verdict: 'MATCHED', version: '2' });
    const run = RunStore.open(runDir, { readonly: true });
    expect(run.reconcilerVersions().get('things')?.version).toBe('2');
    run.close();
  });
});

describe('known differences and noise', () => {
  it('separates accepted signatures from new ones, across runs, and gates on new ones only', async () => {
    await seed();
    const runDir = join(tmp.dir, 'run');
    await runRegression({ runDir, ...envs(), reconcilers: inline(things()), workers: 0 });
    const ledgerPath = join(tmp.dir, 'known-differences.json');
    let ledger = loadLedger(ledgerPath);
    ledger = accept(ledger, { signature: 'things | events[].data.value | CHANGED | exact', acceptedBy: 'alice', reason: 'rounding changes in release 42' });
    ledger = accept(ledger, { signature: 'things | $ | MISSING_IN_UAT | presence', acceptedBy: 'bob', reason: 'D is retired in UAT' });
    saveLedger(ledgerPath, ledger);
    expect(() => accept(ledger, { signature: 'nonsense', acceptedBy: 'x', reason: 'y' })).toThrow(/signature/);

    const carried = loadLedger(ledgerPath);
    const report = buildReport(runDir, { ledger: carried, ledgerPath });
    expect(Object.fromEntries(report.signatures.map((s) => [s.signature, s.status]))).toEqual({
      'things | $ | MISSING_IN_PROD | presence': 'new',
      'things | $ | MISSING_IN_UAT | presence': 'accepted',
      'things | events[].data.value | CHANGED | exact': 'accepted',
    });
    expect(report.signatures.find((s) => s.status === 'accepted' && s.path === '$')!.accepted).toMatchObject({ acceptedBy: 'bob', reason: 'D is retired in UAT' });
    expect(report.gate.failed).toBe(true);

    const all = accept(carried, { signature: 'things | $ | MISSING_IN_PROD | presence', acceptedBy: 'carol', reason: 'F is new in UAT' });
    expect(buildReport(runDir, { ledger: all, failOn: 'new' }).gate.failed).toBe(false);
    expect(buildReport(runDir, { ledger: all, failOn: 'any' }).gate.failed).toBe(true);
    expect(buildReport(runDir, { ledger: all, failOn: 'none' }).gate.failed).toBe(false);
    // Expired acceptances no longer count.
    const expired = accept(all, { signature: 'things | $ | MISSING_IN_PROD | presence', acceptedBy: 'carol', reason: 'F is new in UAT', expires: '2000-01-01' });
    expect(buildReport(runDir, { ledger: expired }).gate.failed).toBe(true);
  });

  it('learns noise from PROD against a second PROD-like run and subtracts it', async () => {
    await seed();
    const runDir = join(tmp.dir, 'run');
    await runRegression({ runDir, ...envs(), reconcilers: inline(things()), workers: 0 });
    // A PROD-like replay with the same wobble on C: that signature is noise.
    const prod2 = openEnv(join(tmp.dir, 'prod2'));
    for (const cid of ['A', 'B', 'D', 'E']) await thing(prod2.events, cid, { value: '10.00' });
    await thing(prod2.events, 'C', { value: '10.01' });
    const baselineDir = join(runDir, 'baseline');
    await runRegression({ runDir: baselineDir, prod: { events: prod.events, reads: null }, uat: { label: 'PROD-2', events: prod2.events, reads: null }, reconcilers: inline(things()), workers: 0 });
    const baseline = buildReport(baselineDir, { failOn: 'none' });
    const run = RunStore.open(runDir);
    run.replaceNoise(baseline.signatures);
    run.close();
    await prod2.close();
    const report = buildReport(runDir, { baselineDir });
    expect(Object.fromEntries(report.signatures.map((s) => [s.signature, s.status]))).toEqual({
      'things | $ | MISSING_IN_PROD | presence': 'new',
      'things | $ | MISSING_IN_UAT | presence': 'new',
      'things | events[].data.value | CHANGED | exact': 'noise',
    });
    expect(report.noise.learned).toBe(1);
  });
});

describe('regression engine (follow)', () => {
  it('waits for a quiet window, times out a missing side, and reopens it late', async () => {
    const runDir = join(tmp.dir, 'run');
    const abort = new AbortController();
    const running = runRegression({
      runDir,
      ...envs(),
      reconcilers: inline(things()),
      workers: 0,
      mode: 'follow',
      timing: { quietMs: 80, timeoutMs: 1500 },
      tickMs: 20,
      signal: abort.signal,
    });
    const verdict = (cid: string) => verdictMap(runDir)[`things/${cid}`];
    await until(() => RunStore.exists(runDir), 5000, 'the run to start');
    await thing(prod.events, 'X', { value: '1' });
    await thing(uat.events, 'X', { value: '1' });
    await thing(prod.events, 'Y', { value: '1' });
    await until(() => verdict('Y') !== undefined, 5000, 'Y to be seen');
    expect(verdict('Y')).toBe('PENDING');
    await until(() => verdict('X') === 'MATCHED', 5000, 'X to match');
    await until(() => verdict('Y') === 'MISSING_IN_UAT', 5000, 'Y to time out');
    await thing(uat.events, 'Y', { value: '2' });
    await until(() => verdict('Y') === 'LATE_DIFFERENT', 5000, 'Y to arrive late');
    // A judged pair that changes is judged again once quiet.
    await thing(uat.events, 'X', { value: '1', again: true });
    await until(() => verdict('X') === 'DIFFERENT', 5000, 'X to be re-judged');
    abort.abort();
    const outcome = await running;
    expect(outcome.status).toBe('stopped');
    const log = verdictsOf(runDir);
    expect(log.get('things/Y')).toMatchObject({ verdict: 'LATE_DIFFERENT', causes: ['timeout', 'settled'] });
    expect(log.get('things/X')).toMatchObject({ causes: ['settled', 'settled'] });
  });
});
