import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { defaultBaseProfile, defaultPatches } from './pipeline.js';
import { applyMergePatch, checkPartition, expandSecrets, loadProfileFile, renderAll, renderProfile, settingsFromProfile } from './profiles.js';

describe('RFC 7396 merge patch', () => {
  // Every example of RFC 7396, appendix A.
  const examples: Array<[unknown, unknown, unknown]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(examples)('%j patched by %j is %j', (target, patch, expected) => {
    const before = structuredClone(target);
    expect(applyMergePatch(target, patch)).toEqual(expected);
    expect(target).toEqual(before);
  });

  it('refuses a prototype key rather than applying half a patch', () => {
    expect(() => applyMergePatch({ a: 1 }, JSON.parse('{"b": 2, "x": {"__proto__": {"polluted": true}}}'))).toThrow(/__proto__: key not allowed/);
  });
});

describe('deployment profiles', () => {
  const base = defaultBaseProfile();

  it('renders every default environment, canonical and hashed', () => {
    const all = renderAll({ base, patches: new Map(Object.entries(defaultPatches())) });
    expect([...all.keys()]).toEqual(['dev', 'ci', 'sit', 'qa', 'perf', 'uat', 'preprod', 'prod', 'dr']);
    const prod = all.get('prod')!;
    expect(prod.profile).toMatchObject({ environment: 'prod', slots: ['blue', 'green'], roles: { processors: { instances: 2, partitions: 2 } } });
    expect(prod.canonical).toBe(canonicalJson(JSON.parse(prod.canonical)));
    expect(prod.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(all.get('dev')!.profile.slots).toEqual(['blue']);
  });

  it('hashes content, not the order of keys', () => {
    const patch = { http: { port: 4000, host: '0.0.0.0' }, dataDir: 'x' };
    const reordered = { dataDir: 'x', http: { host: '0.0.0.0', port: 4000 } };
    expect(renderProfile(base, patch, 'dev').digest).toBe(renderProfile(base, reordered, 'dev').digest);
    expect(renderProfile(base, patch, 'dev').digest).not.toBe(renderProfile(base, { ...patch, dataDir: 'y' }, 'dev').digest);
  });

  it('refuses unknown keys, naming them', () => {
    expect(() => renderProfile(base, { limits: { memoryMB: 10 } }, 'dev')).toThrow(/\/limits: unknown key "memoryMB"/);
    expect(() => renderProfile(base, { environment: 'prod' }, 'dev')).toThrow(/unknown key "environment"/);
    expect(() => renderProfile(base, [], 'dev')).toThrow(/must be a JSON object/);
  });

  it('keeps secrets out: a password in a URL is refused, a ${NAME} reference must be declared', () => {
    expect(() => renderProfile(base, { broker: { url: 'amqp://kepler:hunter2@rabbit', prefix: 'k' }, roles: { publisher: { instances: 1 } } }, 'dev')).toThrow(/\/broker\/url: the URL carries a password/);
    expect(() => renderProfile(base, { readStore: { url: 'mongodb://m1/?authMechanism=x&password=abc' } }, 'dev')).toThrow(/parameter password carries a secret/);
    expect(() => renderProfile(base, { broker: { url: 'amqp://kepler:${AMQP_PASSWORD}@rabbit', prefix: 'k' } }, 'dev')).toThrow(/references \$\{AMQP_PASSWORD\}, which \/secrets does not declare/);
    expect(() => renderProfile(base, { secrets: ['UNUSED'] }, 'dev')).toThrow(/UNUSED is declared but no URL references it/);
    const ok = renderProfile(base, { broker: { url: 'amqp://kepler:${AMQP_PASSWORD}@rabbit', prefix: 'k' }, secrets: ['AMQP_PASSWORD'] }, 'dev');
    expect(ok.canonical).not.toContain('hunter2');
  });

  it('checks roles: a partition is one process, only processors and projections are partitioned, AMQP roles need a broker', () => {
    expect(() => renderProfile(base, { roles: { processors: { instances: 3, partitions: 2 } } }, 'dev')).toThrow(/3 instance\(s\) for 2 partition/);
    expect(() => renderProfile(base, { roles: { 'query-api': { instances: 2, partitions: 2 } } }, 'dev')).toThrow(/only processors and projections are partitioned/);
    expect(() => renderProfile(base, { roles: { ingestion: { instances: 1 } } }, 'dev')).toThrow(/needs \/broker\/url/);
  });

  it('maps onto the platform configuration, expanding secrets only then', () => {
    const prod = renderProfile(base, defaultPatches().prod, 'prod').profile;
    expect(() => settingsFromProfile(prod, {})).toThrow(/needs the variable AMQP_PASSWORD, which is not set/);
    const settings = settingsFromProfile(prod, { AMQP_PASSWORD: 'p@ss:word' });
    expect(settings.amqp?.url).toBe('amqp://kepler:p%40ss%3Aword@rabbit-prod:5672');
    expect(settings.roles).toEqual(['ingestion', 'processors', 'projections', 'command-api', 'query-api', 'publisher']);
    expect(expandSecrets('x://${A}', { A: 'b' }, 'x')).toBe('x://b');
    expect(() => checkPartition(prod, ['processors'], { index: 0, count: 1 })).toThrow(/runs processors in 2 partition\(s\): give --roles processors --partition i\/2/);
    expect(() => checkPartition(prod, ['query-api'], { index: 0, count: 1 })).not.toThrow();
  });

  it('loads what serve --profile is given: a base with patches beside it, or a rendered profile of that environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kepler-profile-'));
    writeFileSync(join(dir, 'base.json'), JSON.stringify(base));
    writeFileSync(join(dir, 'dev.json'), JSON.stringify({ http: { port: 4321 } }));
    const fromBase = loadProfileFile(join(dir, 'base.json'), 'dev');
    expect(fromBase.profile.http.port).toBe(4321);
    writeFileSync(join(dir, 'rendered.json'), fromBase.canonical);
    expect(loadProfileFile(join(dir, 'rendered.json'), 'dev').digest).toBe(fromBase.digest);
    expect(() => loadProfileFile(join(dir, 'rendered.json'), 'prod')).toThrow(/is the profile of dev, not of prod/);
    expect(() => loadProfileFile(join(dir, 'base.json'), 'qa')).toThrow(/no profile patch for qa/);
  });
});
