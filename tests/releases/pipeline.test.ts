// End to end through all nine environments of the default pipeline, on an
// injected clock: real git, Kepler's own event store, the real regression
// engine and the candidate's own projections on preprod. The optional perf
// environment is skipped; a freeze blocks prod; a hotfix skips phases with its
// reason and approvals on record; a rollback goes back to the idle slot.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../eventstore/index.js';
import { Journal, type PipelineRepository, type ReleaseService } from '../../releases/index.js';
import { compiled } from '../support/compiled.js';
import { actor, Clock, makePipeline, openStore, REPO_ROOT, service, tempDir } from './support.js';

const { regressionRunner } = await compiled<typeof import('../../app/commands/releases.js')>('app/commands/releases.ts');
const HOUR = 3_600_000;

let tmp: ReturnType<typeof tempDir>;
let repo: PipelineRepository;
let store: SqliteEventStore;
let key: string;
const clock = new Clock(Date.parse('2026-12-07T08:00:00Z')); // a Monday
const as = (who: string): ReleaseService =>
  service(repo, store, who, { clock: clock.now, regression: regressionRunner, sourceStore: (file) => ({ kind: 'sqlite', path: join(file, '..', 'prod', 'events.db') }) });

async function bookedEnvironment(name: string): Promise<void> {
  const events = SqliteEventStore.open(join(repo.dir, 'regression', name, 'events.db'));
  await events.appendMany(
    Array.from({ length: 20 }, (_, i) => ({
      stream: `booking-T${i}`,
      expectedRevision: 'any' as const,
      events: [{ id: randomUUID(), type: 'TradeBooked', data: { type: 'TradeBooked', tradeRef: `T${i}`, inputId: `in-${i}`, version: 1, isin: 'US0378331005', side: 'BUY', price: '10.5', allocations: [{ allocationId: `T${i}-1`, account: 'ACC-1', quantity: 100 }] }, metadata: { correlationId: `T${i}` } }],
    })),
  );
  await events.close();
  writeFileSync(join(repo.dir, 'regression', `${name}.kepler.json`), JSON.stringify({ dataDir: name }));
}

beforeAll(async () => {
  tmp = tempDir('kepler-pipeline-');
  const made = await makePipeline(join(tmp.dir, 'pipeline'));
  repo = made.repo;
  key = made.key;
  mkdirSync(join(repo.dir, 'regression'), { recursive: true });
  await bookedEnvironment('prod');
  await bookedEnvironment('uat');
  store = openStore(tmp.dir);
});
afterAll(async () => {
  await store?.close();
  tmp?.cleanup();
});

describe('a release through nine environments', () => {
  it('goes phase by phase to prod and dr, is held by a freeze, takes a hotfix and rolls back', async () => {
    const carol = as('carol');
    const c1 = await carol.cut({ source: REPO_ROOT, allowDirty: true, signingKey: key });
    expect(c1.id).toBe('2026.1207.0');

    const promoteAndVerify = async (env: string, who = 'carol') => {
      const outcome = await as(who).promote(c1.id, env);
      expect(outcome.status, `${env}: ${outcome.message}`).toBe('applied');
      await as('qa-bot').markVerified(c1.id, env, `smoke tests of ${env} passed`);
      return outcome;
    };

    // Phase build, then test, leaving out the optional perf.
    await promoteAndVerify('dev');
    expect((await carol.promote(c1.id, 'sit')).gates.find((g) => g.gate === 'upstream')).toMatchObject({ verdict: 'fail', reason: `${c1.id} is not verified in ci (phase build)` });
    await promoteAndVerify('ci');
    await promoteAndVerify('sit');
    await promoteAndVerify('qa');

    // uat: a soak of two hours and one approval, never the cutter's.
    const early = await carol.promote(c1.id, 'uat');
    expect(early.status).toBe('pending');
    expect(early.gates.filter((g) => g.verdict !== 'pass').map((g) => g.gate)).toEqual(['soak', 'approvals', 'integrity']);
    await expect(carol.approve(c1.id, 'uat')).rejects.toThrow('carol cut 2026.1207.0 and cannot approve it');
    await as('alice').approve(c1.id, 'uat', { reason: 'release notes read' });
    clock.advance(2 * HOUR);
    const uat = await promoteAndVerify('uat');
    expect(uat.gates.find((g) => g.gate === 'upstream')!.reason).toBe('verified in sit, qa (phase test)');

    // preprod: four hours' soak, an approval, the regression engine and a replay of the candidate's projections.
    clock.advance(4 * HOUR);
    await as('bob').approve(c1.id, 'preprod');
    const preprod = await promoteAndVerify('preprod');
    expect(preprod.gates.map((g) => `${g.gate}:${g.verdict}`)).toEqual(['veto:pass', 'pin:pass', 'upstream:pass', 'soak:pass', 'windows:pass', 'approvals:pass', 'integrity:pass', 'replay:pass', 'regression:pass']);

    // prod: a day's soak, inside the working-hours window, two approvals — and a freeze that blocks it.
    clock.set('2026-12-08T14:00:00Z');
    await as('alice').approve(c1.id, 'prod');
    await as('bob').approve(c1.id, 'prod');
    await as('ops').freeze(['prod'], { until: null, reason: 'quarter-end close' });
    const frozen = await carol.promote(c1.id, 'prod');
    expect(frozen.status).toBe('refused');
    expect(frozen.gates.find((g) => g.gate === 'windows')).toMatchObject({ verdict: 'fail', reason: expect.stringContaining('quarter-end close') });
    await as('ops').unfreeze(['prod'], 'close done');
    const prod = await promoteAndVerify('prod');
    expect(prod).toMatchObject({ slot: 'blue', live: 'blue', tag: `promote/prod/${c1.id}` });
    await as('bob').approve(c1.id, 'dr');
    await promoteAndVerify('dr', 'alice');

    // A configuration-only hotfix straight to prod: same artifact, phases skipped with a reason, two approvals.
    const patch = JSON.parse(readFileSync(repo.path('profiles', 'prod.json'), 'utf8')) as { limits: Record<string, number> };
    patch.limits.processorCache = 400000;
    writeFileSync(repo.path('profiles', 'prod.json'), JSON.stringify(patch, null, 2));
    await repo.git.commit('prod: a larger processor cache', ['profiles'], actor('carol'));
    const c2 = await carol.cut({ from: c1.id, reason: 'processor cache too small for the year-end volume', signingKey: key });
    expect(c2.candidate).toMatchObject({ parent: { id: c1.id }, artifact: c1.candidate.artifact });
    const diff = await carol.diff(c1.id, c2.id);
    expect(diff.code.changed).toBe(false);
    expect(diff.configuration).toEqual([{ environment: 'prod', from: c1.candidate.profiles.prod, to: c2.candidate.profiles.prod, patch: { limits: { processorCache: 400000 } } }]);

    clock.advance(30 * 60_000);
    expect((await carol.promote(c2.id, 'prod')).gates.find((g) => g.gate === 'upstream')!.verdict).toBe('fail');
    await expect(carol.promote(c2.id, 'prod', { hotfix: true })).rejects.toThrow(/needs a reason/);
    await as('alice').approve(c2.id, 'prod');
    const oneApproval = await carol.promote(c2.id, 'prod', { hotfix: true, reason: 'year-end volume' });
    expect(oneApproval.gates.find((g) => g.gate === 'approvals')).toMatchObject({ verdict: 'pending', reason: expect.stringContaining('1 of 2 approval(s)') });
    await as('bob').approve(c2.id, 'prod');
    const hotfix = await carol.promote(c2.id, 'prod', { hotfix: true, reason: 'year-end volume' });
    expect(hotfix).toMatchObject({ status: 'applied', kind: 'hotfix', slot: 'green', live: 'blue' });
    expect(hotfix.gates.find((g) => g.gate === 'upstream')).toMatchObject({ verdict: 'pass', waived: 'hotfix: year-end volume' });
    await as('qa-bot').markVerified(c2.id, 'prod', 'green answers /status');
    expect(await carol.cutOver(c2.id, 'prod')).toMatchObject({ from: 'blue', to: 'green', unchanged: false });

    // The hotfix misbehaves: back to c1, which blue still runs.
    const back = await as('ops').rollback('prod', c1.id, { reason: 'p99 latency doubled' });
    expect(back).toMatchObject({ status: 'applied', kind: 'rollback', slot: 'blue', live: 'blue', tag: `promote/prod/${c1.id}+2` });
    expect(back.gates.find((g) => g.gate === 'windows')!.verdict).toBe('pass');

    const status = await as('auditor').status();
    const byEnv = Object.fromEntries(status.environments.map((e) => [e.environment, e]));
    expect(byEnv.perf!.live).toBeNull();
    expect(byEnv.prod!.live).toMatchObject({ candidate: c1.id, slot: 'blue' });
    expect(byEnv.prod!.slots.green).toMatchObject({ candidate: c2.id, status: 'rolled back' });
    for (const env of ['dev', 'ci', 'sit', 'qa', 'uat', 'preprod', 'dr']) expect(byEnv[env]!.live, env).toMatchObject({ candidate: c1.id });

    // The history tells it all: who, what, in which slot, why.
    const history = await new Journal(store, actor('auditor')).history();
    const prodLog = history.log.filter((e) => e.environment === 'prod').map((e) => `${e.type} ${e.candidate} ${e.actor}`);
    expect(prodLog).toContain(`PromotionRequested ${c2.id} carol`);
    expect(prodLog).toContain(`SlotSwitched ${c2.id} carol`);
    expect(prodLog).toContain(`PromotionRolledBack ${c2.id} ops`);
    const hotfixState = history.promotions.get(`prod\u0000${c2.id}`)!;
    expect(hotfixState).toMatchObject({ kind: 'hotfix', reason: 'year-end volume', rolledBack: { to: { id: c1.id }, reason: 'p99 latency doubled' } });
    expect(hotfixState.approvals.map((a) => a.approver.subject)).toEqual(['alice', 'bob']);
    expect(history.promotions.get(`uat\u0000${c1.id}`)!.soaked).not.toBeNull();
    const tags = (await repo.git.tags('promote/')).map((t) => t.name);
    expect(tags).toHaveLength(10);
    expect(tags).toEqual(expect.arrayContaining([`promote/prod/${c1.id}`, `promote/prod/${c2.id}`, `promote/prod/${c1.id}+2`]));
  }, 600_000);
});
