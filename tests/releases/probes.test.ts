// The gates that look outside: regression (the real `kepler regress` engine on
// two SQLite environments) and projection replay (the candidate's own
// projections, from its packed artifact, on a sample of an environment's events).
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../eventstore/index.js';
import { PROJECTIONS, rebuildProjection, type AnyProjection } from '../../projections/index.js';
import { SqliteReadStore } from '../../readstore/index.js';
import { replayProjections, type PipelineRepository, type ReleaseService } from '../../releases/index.js';
import { compiled } from '../support/compiled.js';
import { makePipeline, openStore, REPO_ROOT, service, tempDir } from './support.js';

// The engine runs its shards on worker threads, which load compiled JavaScript: the runner is taken from dist/.
const { regressionRunner } = await compiled<typeof import('../../app/commands/releases.js')>('app/commands/releases.ts');

let tmp: ReturnType<typeof tempDir>;
let repo: PipelineRepository;
let store: SqliteEventStore;
let releases: ReleaseService;
let id: string;

function booked(ref: string, quantity: number) {
  return {
    id: randomUUID(),
    type: 'TradeBooked',
    data: { type: 'TradeBooked', tradeRef: ref, inputId: randomUUID(), version: 1, isin: 'US0378331005', side: 'BUY', price: '10.5', allocations: [{ allocationId: `${ref}-1`, account: 'ACC-1', quantity }] },
    metadata: { correlationId: ref },
  };
}

/** A Kepler environment on SQLite with 50 booked trades; `plant` changes one quantity. */
async function environment(name: string, plant = false): Promise<string> {
  const dir = join(repo.dir, 'regression', name);
  const events = SqliteEventStore.open(join(dir, 'events.db'));
  await events.appendMany(Array.from({ length: 50 }, (_, i) => ({ stream: `booking-T${i}`, expectedRevision: 'any' as const, events: [booked(`T${i}`, plant && i === 7 ? 101 : 100)] })));
  await events.close();
  writeFileSync(join(repo.dir, 'regression', `${name}.kepler.json`), JSON.stringify({ dataDir: name }));
  return `regression/${name}.kepler.json`;
}

beforeAll(async () => {
  tmp = tempDir('kepler-probes-');
  const made = await makePipeline(join(tmp.dir, 'pipeline'), {
    edit: (p) => {
      const preprod = p.phases.flatMap((x) => x.environments).find((e) => e.name === 'preprod')!;
      preprod.gates = [
        { gate: 'replay', source: 'regression/prod.kepler.json', sample: 40 },
        { gate: 'regression', prod: 'regression/prod.kepler.json', uat: 'regression/uat.kepler.json', failOn: 'new' },
      ];
    },
  });
  repo = made.repo;
  mkdirSync(join(repo.dir, 'regression'), { recursive: true });
  store = openStore(tmp.dir);
  releases = service(repo, store, 'release-bot', { regression: regressionRunner, sourceStore: (file) => ({ kind: 'sqlite', path: join(file, '..', 'prod', 'events.db') }) });
  id = (await releases.cut({ source: REPO_ROOT, allowDirty: true, signingKey: made.key })).id;
}, 300_000);
afterAll(async () => {
  await store?.close();
  tmp?.cleanup();
});

describe('regression and replay gates', () => {
  it('the regression gate blocks on a planted divergence, with the report digest as evidence, and passes without', async () => {
    await environment('prod');
    await environment('uat', true);
    const blocked = await releases.gateCheck(id, 'preprod');
    expect(blocked.gates.find((g) => g.gate === 'replay')).toMatchObject({ verdict: 'pass', reason: `${PROJECTIONS.map((p) => p.name).join(', ')} rebuilt from 40 sampled events` });
    const regression = blocked.gates.find((g) => g.gate === 'regression')!;
    expect(regression).toMatchObject({ verdict: 'fail', reason: expect.stringMatching(/new signature/) });
    expect(regression.evidenceDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((regression.evidence as { reportDigest: string }).reportDigest).toBe(regression.evidenceDigest);
    expect(blocked.verdict).toBe('fail');

    await environment('uat-clean');
    writeFileSync(join(repo.dir, 'regression', 'uat.kepler.json'), JSON.stringify({ dataDir: 'uat-clean' }));
    const passed = await releases.gateCheck(id, 'preprod');
    expect(passed.gates.find((g) => g.gate === 'regression')).toMatchObject({ verdict: 'pass', reason: expect.stringMatching(/no new signatures .* over \d+ pairs/) });
    expect(passed.verdict).toBe('pass');
  }, 300_000);

  it('replay fails when a projection throws on the sampled events, naming it', async () => {
    const source = SqliteEventStore.open(join(tmp.dir, 'source.db'));
    await source.appendMany(Array.from({ length: 10 }, (_, i) => ({ stream: `booking-T${i}`, expectedRevision: 'any' as const, events: [booked(`T${i}`, 100)] })));
    const broken: AnyProjection = { ...PROJECTIONS[0]!, name: 'trades', apply: () => { throw new Error('cannot read property version of undefined'); } };
    const kit = { projections: [broken, PROJECTIONS[1]!], rebuildProjection: (e: never, r: never, p: AnyProjection) => rebuildProjection(e, r, p, pino({ level: 'silent' })), openEventStore: (p: string) => SqliteEventStore.open(p), openReadStore: (p: string) => SqliteReadStore.open(p) };
    const answer = await replayProjections(source, 10, kit as never, tmp.dir);
    expect(answer).toMatchObject({ verdict: 'fail', reason: expect.stringContaining('trades: cannot read property version of undefined') });
    expect((answer.evidence as { rebuilt: Record<string, number> }).rebuilt).toHaveProperty('positions');
    const empty = SqliteEventStore.open(join(tmp.dir, 'empty.db'));
    expect((await replayProjections(empty, 10, kit as never, tmp.dir)).verdict).toBe('fail');
    await source.close();
    await empty.close();
  });
});
