import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jsonSchemaFiles } from './json-schemas.js';
import { defaultBaseProfile, defaultPatches, defaultPipeline, readPipeline } from './pipeline.js';
import { generateSigningKey } from './signing.js';

const dir = fileURLToPath(new URL('./schemas/', import.meta.url));

describe('JSON Schemas', () => {
  it('the committed files are what the TypeBox declarations give (npm run schemas rewrites them)', () => {
    const files = jsonSchemaFiles();
    expect(readdirSync(dir).sort()).toEqual(Object.keys(files).sort());
    for (const [name, text] of Object.entries(files)) expect(readFileSync(join(dir, name), 'utf8'), name).toBe(text);
  });

  it('the default pipeline is valid and refuses unknown keys and a second gate of a kind', () => {
    const key = generateSigningKey();
    const pipeline = defaultPipeline({ registry: null, trustedKey: { keyid: key.keyid, publicKey: key.publicKeyPem, owner: 'x' } });
    expect(readPipeline(pipeline).phases.flatMap((p) => p.environments.map((e) => e.name))).toHaveLength(9);
    expect(() => readPipeline({ ...pipeline, registri: null })).toThrow(/unknown key "registri"/);
    const twice = structuredClone(pipeline);
    twice.phases[0]!.environments[0]!.gates.push({ gate: 'integrity' });
    expect(() => readPipeline(twice)).toThrow(/two integrity gates/);
    const badWindow = structuredClone(pipeline);
    badWindow.phases[4]!.environments[0]!.gates = [{ gate: 'windows', windows: [{ kind: 'allow', rrule: 'FREQ=DAILY', start: '2026-01-01T09:00', timeZone: 'Mars/Olympus', duration: 'PT1H' }] }];
    expect(() => readPipeline(badWindow)).toThrow(/unknown time zone Mars\/Olympus/);
    expect(() => readPipeline({ ...pipeline, phases: [{ name: 'x', environments: [{ name: 'dev', gates: [{ gate: 'sometimes' }] }] }] })).toThrow(/unknown gate "sometimes"/);
    expect(defaultBaseProfile().secrets).toEqual([]);
    expect(Object.keys(defaultPatches())).toHaveLength(9);
  });
});
