// The jobs and units an environment's profile renders to. The Nomad job is
// checked against the part of Nomad's job specification it relies on (Nomad
// itself cannot run here); systemd units with systemd-analyze verify when the
// machine has it, else by their structure.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { defaultBaseProfile, defaultPatches } from './pipeline.js';
import { renderAll } from './profiles.js';
import { NomadJobSpec, renderNomadJob, renderSystemdUnits, type Deployment } from './renderers.js';
import { validate } from './validate.js';

const exec = promisify(execFile);
const all = renderAll({ base: defaultBaseProfile(), patches: new Map(Object.entries(defaultPatches())) });
const deployment = (env: string, slot: 'blue' | 'green' = 'green'): Deployment => {
  const r = all.get(env)!;
  return { profile: r.profile, profileDigest: r.digest, slot, candidate: { id: '2026.1205.0', digest: `sha256:${'a'.repeat(64)}` }, artifact: { name: 'kepler', version: '2026.1205.0', registry: 'http://registry.internal:4873/' } };
};

describe('Nomad job', () => {
  it('has one task group per role that runs, with its count, and validates against the job spec fields it relies on', () => {
    const job = validate(NomadJobSpec, renderNomadJob(deployment('prod')), 'nomad job');
    expect(job.Job.ID).toBe('kepler-prod-green');
    expect(Object.fromEntries(job.Job.TaskGroups.map((g) => [g.Name, g.Count]))).toEqual({ processors: 2, projections: 2, ingestion: 2, publisher: 1, 'command-api': 2, 'query-api': 3 });
    expect(job.Job.Meta).toMatchObject({ 'kepler.candidate': '2026.1205.0', 'kepler.slot': 'green', 'kepler.profile-digest': all.get('prod')!.digest });
    const processors = job.Job.TaskGroups.find((g) => g.Name === 'processors')!.Tasks[0]!;
    expect(processors.Config.args).toEqual(expect.arrayContaining(['kepler@2026.1205.0', 'serve', '--profile', 'local/profile.json', '--env', 'prod', '--roles', 'processors', '--partition', '${NOMAD_ALLOC_INDEX}/2']));
    expect(processors.Env).toMatchObject({ KEPLER_SLOT: 'green' });
    // The profile ships verbatim; the secret comes from a Nomad variable, never from the job.
    const [profile, secrets] = processors.Templates;
    expect(JSON.parse(profile!.EmbeddedTmpl)).toEqual(all.get('prod')!.profile);
    expect(secrets).toMatchObject({ DestPath: 'secrets/kepler.env', Envvars: true, Perms: '0600' });
    expect(secrets!.EmbeddedTmpl).toContain('AMQP_PASSWORD={{ with nomadVar "nomad/jobs/kepler-prod-green" }}{{ .AMQP_PASSWORD }}{{ end }}');
    expect(JSON.parse(profile!.EmbeddedTmpl).broker.url).toBe('amqp://kepler:${AMQP_PASSWORD}@rabbit-prod:5672');
  });

  it('leaves out roles with no instances and partitions of one', () => {
    const job = validate(NomadJobSpec, renderNomadJob(deployment('dev', 'blue')), 'nomad job');
    expect(job.Job.TaskGroups.map((g) => g.Name)).toEqual(['processors', 'projections', 'command-api', 'query-api']);
    expect(job.Job.TaskGroups[0]!.Tasks[0]!.Config.args).not.toContain('--partition');
    expect(job.Job.TaskGroups[0]!.Tasks[0]!.Templates).toHaveLength(1);
  });

  it('renders the gateway and topology as the environment’s shared job, in no slot’s, with secrets by reference', () => {
    const slotJob = renderNomadJob(deployment('prod'));
    expect(slotJob.Job.TaskGroups.map((g) => g.Name)).not.toEqual(expect.arrayContaining(['gateway']));
    const shared = validate(NomadJobSpec, renderNomadJob(deployment('prod'), { part: 'shared' }), 'nomad job');
    expect(shared.Job.ID).toBe('kepler-prod-shared');
    expect(shared.Job.Meta).toMatchObject({ 'kepler.slot': 'shared', 'kepler.profile-digest': all.get('prod')!.digest });
    expect(Object.fromEntries(shared.Job.TaskGroups.map((g) => [g.Name, g.Count]))).toEqual({ topology: 1, gateway: 2 });
    const gateway = shared.Job.TaskGroups.find((g) => g.Name === 'gateway')!.Tasks[0]!;
    expect(gateway.Config.args).toEqual(expect.arrayContaining(['serve', '--profile', 'local/profile.json', '--env', 'prod', '--roles', 'gateway']));
    expect(gateway.Config.args).not.toContain('--partition');
    // Not a slot's process: no KEPLER_SLOT; telemetry and the environment's name come from the profile, not the job.
    expect(gateway.Env).toEqual({ npm_config_registry: 'http://registry.internal:4873/' });
    const secrets = gateway.Templates[1]!;
    expect(secrets.EmbeddedTmpl).toContain('SPLUNK_HEC_TOKEN={{ with nomadVar "nomad/jobs/kepler-prod-shared" }}{{ .SPLUNK_HEC_TOKEN }}{{ end }}');
    // Only references travel in the job: the profile it ships holds ${NAME}, never a value.
    const shipped = JSON.parse(gateway.Templates[0]!.EmbeddedTmpl) as { telemetry: { splunkHec: { token: string } } };
    expect(shipped.telemetry.splunkHec.token).toBe('${SPLUNK_HEC_TOKEN}');
    expect(() => renderNomadJob(deployment('dev'), { part: 'shared' })).toThrow(/profile dev runs no gateway or topology processes/);
  });

  it('is refused by the spec when a field is misspelt', () => {
    const job = renderNomadJob(deployment('dev')) as unknown as { Job: { TaskGroups: Array<Record<string, unknown>> } };
    job.Job.TaskGroups[0]!.count = 2;
    expect(() => validate(NomadJobSpec, job, 'nomad job')).toThrow(/unknown key "count"/);
  });
});

describe('systemd units', () => {
  const units = renderSystemdUnits(deployment('prod'));

  it('run one service per process, each on its own port, and a target that wants them all', () => {
    const services = units.filter((u) => u.name.endsWith('.service'));
    expect(services).toHaveLength(2 + 2 + 2 + 1 + 2 + 3);
    const target = units.find((u) => u.name === 'kepler-prod-green.target')!;
    for (const s of services) expect(target.text).toContain(s.name);
    const ports = services.map((s) => /--port (\d+)/.exec(s.text)![1]);
    expect(new Set(ports).size).toBe(services.length);
    const p1 = services.find((s) => s.name === 'kepler-prod-green-processors-1.service')!.text;
    expect(p1).toMatch(/^ExecStart=\/usr\/bin\/npx --yes --package kepler@2026\.1205\.0 -- kepler serve --profile \/etc\/kepler\/prod\/profile\.json --env prod --roles processors --partition 1\/2 --port \d+$/m);
    expect(p1).toContain('Environment=KEPLER_SLOT=green');
    expect(p1).toContain('EnvironmentFile=/etc/kepler/prod/secrets.env');
    for (const s of services) expect(s.text).toMatch(/^\[Unit\][\s\S]*^\[Service\][\s\S]*^\[Install\]/m);
  });

  it('put the shared processes under a target of their own, on ports after a slot’s', () => {
    const shared = renderSystemdUnits(deployment('prod'), { part: 'shared' });
    expect(shared.map((u) => u.name)).toEqual([
      'kepler-prod-shared-topology-0.service',
      'kepler-prod-shared-gateway-0.service',
      'kepler-prod-shared-gateway-1.service',
      'kepler-prod-shared.target',
    ]);
    const slotPorts = units.filter((u) => u.name.endsWith('.service')).map((s) => Number(/--port (\d+)/.exec(s.text)![1]));
    const sharedPorts = shared.filter((u) => u.name.endsWith('.service')).map((s) => Number(/--port (\d+)/.exec(s.text)![1]));
    expect(Math.min(...sharedPorts)).toBeGreaterThan(Math.max(...slotPorts));
    const gateway = shared[1]!.text;
    expect(gateway).toMatch(/^ExecStart=.* -- kepler serve --profile \/etc\/kepler\/prod\/profile\.json --env prod --roles gateway --port \d+$/m);
    expect(gateway).not.toContain('KEPLER_SLOT');
    expect(gateway).toContain('EnvironmentFile=/etc/kepler/prod/secrets.env');
  });

  it('pass systemd-analyze verify', async () => {
    const available = await exec('systemd-analyze', ['--version']).then(
      () => true,
      () => false,
    );
    if (!available) {
      process.stderr.write('[tests] systemd-analyze is not installed: the units were checked by their structure only\n');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'kepler-units-'));
    const everyUnit = [...units, ...renderSystemdUnits(deployment('prod'), { part: 'shared' })];
    for (const u of everyUnit) writeFileSync(join(dir, u.name), u.text);
    const npx = await exec('sh', ['-c', 'command -v npx']).then(
      (r) => r.stdout.trim(),
      () => '',
    );
    // verify checks that ExecStart's binary exists: point the units at this machine's npx.
    if (npx && npx !== '/usr/bin/npx') {
      for (const part of ['slot', 'shared'] as const) for (const u of renderSystemdUnits(deployment('prod'), { npx, part })) writeFileSync(join(dir, u.name), u.text);
    }
    const r = await exec('systemd-analyze', ['verify', '--man=no', ...everyUnit.map((u) => join(dir, u.name))], { cwd: dir }).then(
      (x) => ({ code: 0, stderr: x.stderr }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(r).toEqual({ code: 0, stderr: '' });
  });
});
