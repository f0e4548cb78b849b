// Artifacts in a real npm registry (Verdaccio): published at the cut with their
// integrity recorded; dist-tags that move on promotion and rollback, the same
// bytes going forward; a tampered tarball caught by verify and by the gate.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteEventStore } from '../../eventstore/index.js';
import { compareCalVer, NpmRegistry, type ReleaseService } from '../../releases/index.js';
import { makePipeline, openStore, REPO_ROOT, service, startRegistry, tempDir, type Registry } from './support.js';

const registry = await startRegistry();
let tmp: ReturnType<typeof tempDir>;
let store: SqliteEventStore;
let releases: ReleaseService;
let key: string;
let repo: Awaited<ReturnType<typeof makePipeline>>['repo'];

async function packument(name: string): Promise<{ 'dist-tags': Record<string, string>; versions: Record<string, { dist: { integrity: string } }> }> {
  const r = await fetch(`${registry!.url}${name}`, { headers: { authorization: `Bearer ${registry!.token}` } });
  return (await r.json()) as never;
}

describe.skipIf(!registry)('artifacts in a real npm registry', () => {
  beforeAll(async () => {
    tmp = tempDir('kepler-registry-');
    const made = await makePipeline(join(tmp.dir, 'pipeline'), { registry: (registry as Registry).url });
    key = made.key;
    repo = made.repo;
    store = openStore(tmp.dir);
    releases = service(made.repo, store, 'release-bot', { env: { ...process.env, KEPLER_REGISTRY_TOKEN: registry!.token } });
  });
  afterAll(async () => {
    await store?.close();
    await registry?.stop();
    tmp?.cleanup();
  });

  it('publishes at the cut, records the integrity, moves dist-tags on promotion and rollback, and catches a tampered tarball', async () => {
    const first = await releases.cut({ source: REPO_ROOT, allowDirty: true, signingKey: key });
    expect(first.candidate.artifact).toMatchObject({ name: 'kepler', version: first.id, registry: registry!.url });
    const published = await packument('kepler');
    expect(published.versions[first.id]!.dist.integrity).toBe(first.candidate.artifact.integrity);
    expect(await releases.verify(first.id)).toMatchObject({ ok: true, checks: [{ check: 'manifest' }, { check: 'signature' }, { check: 'cut record' }, { check: 'artifact', ok: true }] });

    expect((await releases.promote(first.id, 'dev')).status).toBe('applied');
    expect((await packument('kepler'))['dist-tags']).toMatchObject({ dev: first.id });

    const second = await releases.cut({ source: REPO_ROOT, allowDirty: true, signingKey: key });
    expect(compareCalVer(second.id, first.id)).toBeGreaterThan(0);
    expect((await releases.promote(second.id, 'dev')).status).toBe('applied');
    expect((await packument('kepler'))['dist-tags']).toMatchObject({ dev: second.id });

    // dev runs one slot: the rollback replaces second with first, and the dist-tag goes back.
    const back = await releases.rollback('dev', first.id, { reason: 'second breaks the sample feed' });
    expect(back).toMatchObject({ status: 'applied', kind: 'rollback', tag: `promote/dev/${first.id}+2` });
    expect((await packument('kepler'))['dist-tags']).toMatchObject({ dev: first.id });
    const tags = await new NpmRegistry(registry!.url, { ...process.env, KEPLER_REGISTRY_TOKEN: registry!.token }).distTags('kepler');
    expect(tags.dev).toBe(first.id);

    // A promotion killed after its push, before it was recorded: the next command records it, and moves the dist-tag it never moved.
    const third = await releases.cut({ source: REPO_ROOT, allowDirty: true, signingKey: key });
    const killed = service(repo, store, 'release-bot', {
      env: { ...process.env, KEPLER_REGISTRY_TOKEN: registry!.token },
      hooks: {
        afterPush: async () => {
          throw new Error('killed');
        },
      },
    });
    await expect(killed.promote(third.id, 'dev')).rejects.toThrow('killed');
    expect((await packument('kepler'))['dist-tags']).toMatchObject({ dev: first.id });
    expect(await releases.reconcile()).toBe(1);
    expect((await packument('kepler'))['dist-tags']).toMatchObject({ dev: third.id });

    // Someone swaps the bytes in the registry's storage: verify and the integrity gate both refuse them.
    const tarball = join(registry!.storage, 'kepler', `kepler-${first.id}.tgz`);
    expect(existsSync(tarball)).toBe(true);
    const bytes = readFileSync(tarball);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    writeFileSync(tarball, bytes);
    const verified = await releases.verify(first.id);
    expect(verified.ok).toBe(false);
    expect(verified.checks.find((c) => c.check === 'artifact')).toMatchObject({ ok: false, detail: expect.stringMatching(/do not match|integrity/) });
    const refused = await releases.promote(first.id, 'ci');
    expect(refused.status).toBe('refused');
    expect(refused.gates.find((g) => g.gate === 'integrity')).toMatchObject({ verdict: 'fail' });
  }, 300_000);
});
