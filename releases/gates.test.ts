// The gates and the promotion aggregate as pure rules: a history of events, a
// clock, a pipeline — no git, no registry.
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../eventstore/index.js';
import { approvalsGate, evaluateGates, overallVerdict, pinGate, soakGate, upstreamGate, vetoGate, windowsGate, type GateContext, type Probes } from './gates.js';
import { foldHistory } from './journal.js';
import { defaultPipeline } from './pipeline.js';
import { decide, evolve, initialPromotionState, type PromotionCommand, type PromotionState } from './promotion.js';
import type { EnvironmentEvent, Pipeline, PromotionEvent, ReleaseCandidate, Window } from './schemas.js';
import { generateSigningKey } from './signing.js';
import { windowState } from './windows.js';

const key = generateSigningKey();
const pipeline: Pipeline = defaultPipeline({ registry: null, trustedKey: { keyid: key.keyid, publicKey: key.publicKeyPem, owner: 'x' } });
const ref = { id: '2026.1205.0', digest: `sha256:${'c'.repeat(64)}` };
const alice = { subject: 'alice', clientId: 'kepler-cli' };
const candidate = { id: ref.id, createdBy: alice } as unknown as ReleaseCandidate;

let position = 0;
function recorded(stream: string, data: PromotionEvent | EnvironmentEvent): RecordedEvent {
  position++;
  return { id: String(position), type: data.type, data, metadata: { correlationId: 'x' }, stream, revision: 0, position, recordedAt: new Date() };
}
const promo = (event: PromotionEvent) => recorded(`release-promotion-${event.environment}-${event.candidate.id}`, event);
const env = (event: EnvironmentEvent) => recorded(`release-environment-${event.environment}`, event);
const on = (environment: string, at: string) => ({ environment, candidate: ref, at });
const verified = (environment: string, at: string): PromotionEvent[] => [
  { type: 'PromotionRequested', ...on(environment, at), attempt: 1, kind: 'promotion', slot: 'blue', reason: null, replacing: null, requestedBy: alice },
  { type: 'PromotionApplied', ...on(environment, at), attempt: 1, commit: 'a'.repeat(40), tag: `promote/${environment}/${ref.id}`, slot: 'blue' },
  { type: 'PromotionVerified', ...on(environment, at), by: alice, evidence: null },
];

function ctx(environment: string, events: RecordedEvent[], now: string, kind: GateContext['kind'] = 'promotion', reason: string | null = null): GateContext {
  const definition = pipeline.phases.flatMap((p) => p.environments).find((e) => e.name === environment)!;
  return { pipeline, environment, definition, candidate, ref, kind, reason, history: foldHistory(events), now: new Date(now) };
}

describe('upstream and soak', () => {
  it('passes in the first phase; later, needs verification in every required environment of the phase before', () => {
    expect(upstreamGate(ctx('dev', [], '2026-12-05T10:00:00Z')).verdict).toBe('pass');
    const onlyDev = verified('dev', '2026-12-05T10:00:00Z').map(promo);
    const r = upstreamGate(ctx('sit', onlyDev, '2026-12-05T11:00:00Z'));
    expect(r).toMatchObject({ verdict: 'fail', reason: '2026.1205.0 is not verified in ci (phase build)' });
    expect(r.evidenceDigest).toMatch(/^sha256:/);
    const both = [...onlyDev, ...verified('ci', '2026-12-05T10:30:00Z').map(promo)];
    expect(upstreamGate(ctx('sit', both, '2026-12-05T11:00:00Z')).verdict).toBe('pass');
  });

  it('skips an optional environment the candidate never entered, but not one it entered', () => {
    const test = ['sit', 'qa'].flatMap((e) => verified(e, '2026-12-05T10:00:00Z')).map(promo);
    expect(upstreamGate(ctx('uat', test, '2026-12-05T11:00:00Z'))).toMatchObject({ verdict: 'pass', reason: 'verified in sit, qa (phase test)' });
    const enteredPerf = [...test, promo({ type: 'PromotionRequested', ...on('perf', '2026-12-05T10:00:00Z'), attempt: 1, kind: 'promotion', slot: 'blue', reason: null, replacing: null, requestedBy: alice })];
    expect(upstreamGate(ctx('uat', enteredPerf, '2026-12-05T11:00:00Z'))).toMatchObject({ verdict: 'fail', reason: expect.stringContaining('perf') });
  });

  it('soaks from the latest upstream verification, by the clock: pending, then pass', () => {
    const test = [...verified('sit', '2026-12-05T10:00:00Z'), ...verified('qa', '2026-12-05T11:00:00Z')].map(promo);
    const early = soakGate(ctx('uat', test, '2026-12-05T12:59:00Z'), 'PT2H');
    expect(early).toMatchObject({ verdict: 'pending', reason: expect.stringContaining('passes at 2026-12-05T13:00:00.000Z') });
    expect(soakGate(ctx('uat', test, '2026-12-05T13:00:00Z'), 'PT2H').verdict).toBe('pass');
    expect(soakGate(ctx('uat', [], '2026-12-05T13:00:00Z'), 'PT2H').verdict).toBe('pending');
  });

  it('a hotfix skips upstream and soak, recording its reason, and needs the hotfix approvals', () => {
    const c = ctx('prod', [], '2026-12-07T10:00:00Z', 'hotfix', 'CVE-2026-1');
    expect(upstreamGate(c)).toMatchObject({ verdict: 'pass', waived: 'hotfix: CVE-2026-1' });
    expect(soakGate(c, 'PT24H')).toMatchObject({ verdict: 'pass', waived: 'hotfix: CVE-2026-1' });
    expect(approvalsGate(c, 0)).toMatchObject({ verdict: 'pending', reason: expect.stringContaining('0 of 2 approval(s)') });
  });
});

describe('approvals', () => {
  const approve = (subject: string, environment = 'prod'): PromotionEvent => ({ type: 'PromotionApproved', ...on(environment, '2026-12-05T10:00:00Z'), approver: { subject }, overrides: [], reason: null });

  it('counts distinct approvers', () => {
    const c = (events: PromotionEvent[]) => approvalsGate(ctx('prod', events.map(promo), '2026-12-05T10:00:00Z'), 2);
    expect(c([approve('bob')]).verdict).toBe('pending');
    expect(c([approve('bob'), approve('bob')]).verdict).toBe('pending');
    expect(c([approve('bob'), approve('carol')])).toMatchObject({ verdict: 'pass', reason: 'approved by bob, carol (2 required)' });
  });

  it('refuses an approval by whoever cut the candidate', () => {
    const command: PromotionCommand = { type: 'Approve', ...on('prod', '2026-12-05T10:00:00Z'), approver: alice, cutBy: alice, overrides: [], reason: null };
    expect(decide(command, initialPromotionState)).toEqual(E.left({ code: 'SELF_APPROVAL', message: 'alice cut 2026.1205.0 and cannot approve it' }));
    // And an approval that slipped into the history under the cutter's name does not count.
    expect(approvalsGate(ctx('prod', [promo(approve('alice'))], '2026-12-05T10:00:00Z'), 1).verdict).toBe('pending');
  });
});

describe('windows and freezes', () => {
  // 09:00-17:00 London time, every day: 09:00 GMT in winter, 08:00 UTC in summer.
  const office: Window = { kind: 'allow', name: 'office', rrule: 'FREQ=DAILY', start: '2027-03-01T09:00', timeZone: 'Europe/London', duration: 'PT8H' };

  it('follows local time across the DST change (London, 28 March 2027)', () => {
    expect(windowState([office], null, new Date('2027-03-27T09:30:00Z')).state).toBe('open'); // 09:30 GMT
    expect(windowState([office], null, new Date('2027-03-27T16:30:00Z')).state).toBe('open'); // 16:30 GMT
    expect(windowState([office], null, new Date('2027-03-27T08:30:00Z')).state).toBe('closed'); // 08:30 GMT
    expect(windowState([office], null, new Date('2027-03-29T08:30:00Z')).state).toBe('open'); // 09:30 BST
    expect(windowState([office], null, new Date('2027-03-29T16:30:00Z')).state).toBe('closed'); // 17:30 BST
    expect(windowState([office], null, new Date('2027-03-29T07:30:00Z'))).toMatchObject({ state: 'closed', opensAt: '2027-03-29T08:00:00.000Z' });
  });

  it('a deny wins over an allow; a freeze denies until it ends', () => {
    const christmas: Window = { kind: 'deny', name: 'christmas', rrule: 'FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24', start: '2026-12-24T00:00', timeZone: 'Europe/London', duration: 'P3D' };
    expect(windowState([office, christmas], null, new Date('2027-12-25T10:00:00Z'))).toMatchObject({ state: 'denied', until: '2027-12-27T00:00:00.000Z' });
    expect(windowState([office, christmas], null, new Date('2027-12-28T10:00:00Z')).state).toBe('open');
    const freeze = { until: '2026-12-05T12:00:00.000Z', reason: 'incident 42', by: 'ops' };
    expect(windowState([], freeze, new Date('2026-12-05T11:00:00Z'))).toMatchObject({ state: 'denied', reason: expect.stringContaining('incident 42') });
    expect(windowState([], freeze, new Date('2026-12-05T12:00:00Z')).state).toBe('open');
  });

  it('as a gate: a freeze fails it, a closed window leaves it pending, an approved override lets it through and is recorded', () => {
    const frozen = env({ type: 'EnvironmentFrozen', environment: 'prod', by: { subject: 'ops' }, at: '2026-12-07T09:00:00Z', until: null, reason: 'quarter end' });
    const monday10 = '2026-12-07T10:00:00Z';
    expect(windowsGate(ctx('prod', [], monday10)).verdict).toBe('pass');
    expect(windowsGate(ctx('prod', [], '2026-12-05T10:00:00Z')).verdict).toBe('pending'); // a Saturday
    expect(windowsGate(ctx('prod', [frozen], monday10))).toMatchObject({ verdict: 'fail', reason: expect.stringContaining('quarter end') });
    // A freeze applies to an environment without a windows gate too.
    expect(windowsGate(ctx('dev', [env({ ...(frozen.data as EnvironmentEvent), environment: 'dev' })], monday10)).verdict).toBe('fail');
    const override = promo({ type: 'PromotionApproved', ...on('prod', monday10), approver: { subject: 'cto' }, overrides: ['windows'], reason: 'regulatory fix' });
    expect(windowsGate(ctx('prod', [frozen, override], monday10))).toMatchObject({ verdict: 'pass', waived: 'override approved by cto' });
    expect(windowsGate(ctx('prod', [frozen], monday10, 'rollback'))).toMatchObject({ verdict: 'pass', waived: 'rollback' });
  });
});

describe('veto, pin and the order of gates', () => {
  it('a veto and a pin to another candidate fail', () => {
    const vetoed = promo({ type: 'PromotionVetoed', ...on('qa', '2026-12-05T10:00:00Z'), by: { subject: 'qa-lead' }, reason: 'wrong totals' });
    expect(vetoGate(ctx('qa', [vetoed], '2026-12-05T10:00:00Z'))).toMatchObject({ verdict: 'fail', reason: expect.stringContaining('wrong totals') });
    expect(vetoGate(ctx('sit', [vetoed], '2026-12-05T10:00:00Z')).verdict).toBe('pass');
    const pinned = (digest: string) => env({ type: 'EnvironmentPinned', environment: 'qa', by: { subject: 'qa-lead' }, at: '2026-12-05T10:00:00Z', candidate: { id: '2026.1204.0', digest }, reason: 'audit' });
    expect(pinGate(ctx('qa', [pinned(`sha256:${'d'.repeat(64)}`)], '2026-12-05T10:00:00Z'))).toMatchObject({ verdict: 'fail', reason: 'qa is pinned to 2026.1204.0 by qa-lead: audit' });
    expect(pinGate(ctx('qa', [pinned(ref.digest)], '2026-12-05T10:00:00Z')).verdict).toBe('pass');
  });

  it('runs the costly probes only once the cheap gates pass, and a probe that throws fails its gate', async () => {
    let ran = 0;
    const probes: Probes = {
      integrity: async () => (ran++, { verdict: 'pass', reason: 'ok', evidence: { x: 1 } }),
      regression: async () => (ran++, { verdict: 'fail', reason: 'new signature', evidence: {}, evidenceDigest: `sha256:${'e'.repeat(64)}` }),
      replay: async () => {
        ran++;
        throw new Error('boom');
      },
    };
    const blocked = await evaluateGates(ctx('preprod', [], '2026-12-07T10:00:00Z'), probes);
    expect(ran).toBe(0);
    expect(blocked.find((g) => g.gate === 'regression')).toMatchObject({ verdict: 'pending', reason: expect.stringMatching(/^not run until upstream/) });
    expect(overallVerdict(blocked)).toBe('fail');
    const uat = verified('uat', '2026-12-07T01:00:00Z').map(promo);
    const approval = promo({ type: 'PromotionApproved', ...on('preprod', '2026-12-07T01:00:00Z'), approver: { subject: 'bob' }, overrides: [], reason: null });
    const open = await evaluateGates(ctx('preprod', [...uat, approval], '2026-12-07T10:00:00Z'), probes);
    expect(open.map((g) => `${g.gate}:${g.verdict}`)).toEqual(['veto:pass', 'pin:pass', 'upstream:pass', 'soak:pass', 'windows:pass', 'approvals:pass', 'integrity:pass', 'replay:fail', 'regression:pending']);
    expect(open.find((g) => g.gate === 'replay')!.reason).toBe('could not be evaluated: boom');
  });
});

describe('the promotion aggregate', () => {
  const fold = (events: PromotionEvent[]) => events.reduce(evolve, initialPromotionState);
  let log: PromotionEvent[] = [];
  /** Decides on the state, keeps the events: the new state, or the refusal's code. */
  const step = (state: PromotionState, command: PromotionCommand) => {
    const d = decide(command, state);
    if (E.isLeft(d)) return d.left.code;
    log = [...log, ...d.right];
    return fold(log);
  };

  it('applies only after its gates pass, once, and is idempotent', () => {
    log = [];
    let s = step(initialPromotionState, { type: 'Request', ...on('dev', 't'), kind: 'promotion', slot: 'blue', reason: null, replacing: null, actor: alice }) as PromotionState;
    expect(step(s, { type: 'Apply', ...on('dev', 't'), attempt: 1, commit: 'a'.repeat(40), tag: 't', slot: 'blue' })).toBe('GATES_NOT_PASSED');
    s = step(s, { type: 'RecordGates', ...on('dev', 't'), attempt: 1, results: [{ gate: 'veto', verdict: 'pass', reason: '', waived: null, evidenceDigest: null, evidence: null }] }) as PromotionState;
    s = step(s, { type: 'Apply', ...on('dev', 't'), attempt: 1, commit: 'a'.repeat(40), tag: 't', slot: 'blue' }) as PromotionState;
    expect(s.applied?.commit).toBe('a'.repeat(40));
    const before = log.length;
    expect((step(s, { type: 'Apply', ...on('dev', 't'), attempt: 1, commit: 'a'.repeat(40), tag: 't', slot: 'blue' }) as PromotionState).appliedCount).toBe(1);
    expect(log.length).toBe(before);
    expect(step(s, { type: 'Request', ...on('dev', 't'), kind: 'promotion', slot: 'blue', reason: null, replacing: null, actor: alice })).toBe('ALREADY_APPLIED');
    expect(step(s, { type: 'MarkSoaked', ...on('dev', 't'), soakedMs: 1 })).toBe('NOT_VERIFIED');
    s = step(s, { type: 'RollBack', ...on('dev', 't'), to: { id: '2026.1204.0', digest: ref.digest }, reason: 'bad' }) as PromotionState;
    expect(s.rolledBack).not.toBeNull();
    // Promoted again after its rollback: a new attempt, counted as the second application.
    s = step(s, { type: 'Request', ...on('dev', 't'), kind: 'promotion', slot: 'blue', reason: null, replacing: null, actor: alice }) as PromotionState;
    expect(s).toMatchObject({ attempt: 2, applied: null, rolledBack: null, appliedCount: 1 });
  });
});
