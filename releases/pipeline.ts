// The pipeline: environments in phases, each with its gates. A candidate moves
// phase by phase; within a phase environments are peers, and an optional
// environment may be skipped.
import type { DeploymentProfile, EnvironmentDefinition, GateConfig, Pipeline } from './schemas.js';
import { Pipeline as PipelineSchema } from './schemas.js';
import { validate, ValidationError } from './validate.js';
import { checkWindow } from './windows.js';

export interface PlacedEnvironment {
  definition: EnvironmentDefinition;
  phase: number;
  phaseName: string;
}

export function readPipeline(value: unknown, what = 'pipeline.json'): Pipeline {
  const pipeline = validate(PipelineSchema, value, what);
  checkPipeline(pipeline, what);
  return pipeline;
}

/** What the schema cannot say: unique names, one gate of a kind per environment, windows that parse. */
export function checkPipeline(pipeline: Pipeline, what: string): void {
  const errors: string[] = [];
  const seen = new Set<string>();
  pipeline.phases.forEach((phase, p) =>
    phase.environments.forEach((env, e) => {
      if (seen.has(env.name)) errors.push(`/phases/${p}/environments/${e}: environment ${env.name} appears twice`);
      seen.add(env.name);
      const kinds = env.gates.map((g) => g.gate);
      for (const kind of new Set(kinds)) if (kinds.filter((k) => k === kind).length > 1) errors.push(`/phases/${p}/environments/${e}: two ${kind} gates`);
      env.gates.forEach((gate, g) => {
        if (gate.gate === 'windows') {
          gate.windows.forEach((w, i) => {
            const problem = checkWindow(w);
            if (problem) errors.push(`/phases/${p}/environments/${e}/gates/${g}/windows/${i}: ${problem}`);
          });
        }
      });
    }),
  );
  if (pipeline.phases[0]!.environments.every((e) => e.optional)) errors.push('/phases/0: the first phase needs an environment that is not optional');
  if (pipeline.latestFollows !== undefined && !seen.has(pipeline.latestFollows)) errors.push(`/latestFollows: no environment ${pipeline.latestFollows}`);
  if (errors.length > 0) throw new ValidationError(what, errors);
}

export function environmentsOf(pipeline: Pipeline): PlacedEnvironment[] {
  return pipeline.phases.flatMap((phase, index) => phase.environments.map((definition) => ({ definition, phase: index, phaseName: phase.name })));
}

export function placeOf(pipeline: Pipeline, environment: string): PlacedEnvironment {
  const placed = environmentsOf(pipeline).find((e) => e.definition.name === environment);
  if (!placed) throw new UnknownEnvironmentError(environment, environmentsOf(pipeline).map((e) => e.definition.name));
  return placed;
}

export class UnknownEnvironmentError extends Error {
  override readonly name = 'UnknownEnvironmentError';
  constructor(environment: string, known: readonly string[]) {
    super(`no environment "${environment}" in the pipeline (it has ${known.join(', ')})`);
  }
}

/** The environments of the phase before this one's; empty for the first phase. */
export function upstreamOf(pipeline: Pipeline, environment: string): { phase: string | null; required: string[]; optional: string[] } {
  const { phase } = placeOf(pipeline, environment);
  if (phase === 0) return { phase: null, required: [], optional: [] };
  const previous = pipeline.phases[phase - 1]!;
  return {
    phase: previous.name,
    required: previous.environments.filter((e) => !e.optional).map((e) => e.name),
    optional: previous.environments.filter((e) => e.optional).map((e) => e.name),
  };
}

export function gateOf<K extends GateConfig['gate']>(definition: EnvironmentDefinition, gate: K): Extract<GateConfig, { gate: K }> | undefined {
  return definition.gates.find((g) => g.gate === gate) as Extract<GateConfig, { gate: K }> | undefined;
}

// ── What `kepler pipeline init` writes ──────────────────────────────────────

export const DEFAULT_PACKAGE = 'kepler';

export function defaultPipeline(options: { registry: string | null; trustedKey: { keyid: string; publicKey: string; owner: string } }): Pipeline {
  const integrity: GateConfig = { gate: 'integrity' };
  const upstream: GateConfig = { gate: 'upstream' };
  return {
    $schema: './schemas/pipeline.schema.json',
    schema: 'kepler.pipeline/v1',
    name: 'kepler',
    package: DEFAULT_PACKAGE,
    registry: options.registry,
    latestFollows: 'prod',
    trustedKeys: [options.trustedKey],
    phases: [
      { name: 'build', environments: [{ name: 'dev', gates: [integrity] }, { name: 'ci', gates: [integrity] }] },
      {
        name: 'test',
        environments: [
          { name: 'sit', gates: [upstream, integrity] },
          { name: 'qa', gates: [upstream, integrity] },
          { name: 'perf', optional: true, gates: [upstream, integrity] },
        ],
      },
      { name: 'acceptance', environments: [{ name: 'uat', gates: [upstream, { gate: 'soak', duration: 'PT2H' }, { gate: 'approvals', required: 1 }, integrity] }] },
      {
        name: 'staging',
        environments: [
          {
            name: 'preprod',
            gates: [
              upstream,
              { gate: 'soak', duration: 'PT4H' },
              { gate: 'approvals', required: 1 },
              integrity,
              { gate: 'regression', prod: 'regression/prod.kepler.json', uat: 'regression/uat.kepler.json', failOn: 'new' },
              { gate: 'replay', source: 'regression/prod.kepler.json', sample: 10000 },
            ],
          },
        ],
      },
      {
        name: 'production',
        environments: [
          {
            name: 'prod',
            gates: [
              upstream,
              { gate: 'soak', duration: 'PT24H' },
              {
                gate: 'windows',
                windows: [
                  { kind: 'allow', name: 'working hours', rrule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH', start: '2026-01-05T09:00', timeZone: 'Europe/London', duration: 'PT7H' },
                  { kind: 'deny', name: 'year-end freeze', rrule: 'FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=20', start: '2026-12-20T00:00', timeZone: 'Europe/London', duration: 'P14D' },
                ],
              },
              { gate: 'approvals', required: 2 },
              integrity,
            ],
          },
          { name: 'dr', gates: [upstream, { gate: 'approvals', required: 1 }, integrity] },
        ],
      },
    ],
    hotfix: { approvals: 2 },
  };
}

/** The base profile: one process of each role on embedded stores, one slot. */
export function defaultBaseProfile(): DeploymentProfile {
  return {
    dataDir: 'data',
    eventStore: {},
    readStore: {},
    broker: { prefix: 'kepler' },
    http: { host: '127.0.0.1', port: 3000 },
    slots: ['blue'],
    roles: {
      ingestion: { instances: 0 },
      processors: { instances: 1, partitions: 1 },
      projections: { instances: 1, partitions: 1 },
      'command-api': { instances: 1 },
      'query-api': { instances: 1 },
      publisher: { instances: 0 },
    },
    limits: { memoryMb: 1024, cpuMhz: 1000, readYourWritesTimeoutMs: 5000, rebuildDocuments: 200000 },
    features: { projectionsThread: true, tracing: false },
    secrets: [],
  };
}

/**
 * Each environment's merge patch: real servers, blue/green and authentication from sit on (every process
 * there listens beyond loopback), production-sized prod and dr with the shared gateway and topology roles,
 * TLS and log shipping. dev and ci listen on loopback and may run without authentication.
 */
export function defaultPatches(): Record<string, unknown> {
  const servers = (env: string) => ({
    dataDir: `/var/lib/kepler/${env}`,
    eventStore: { url: `esdb://es-${env}:2113?tls=true` },
    readStore: { url: `mongodb://mongo-${env}/?replicaSet=rs0`, database: `kepler_${env}` },
    broker: { url: `amqp://kepler:\${AMQP_PASSWORD}@rabbit-${env}:5672`, prefix: 'kepler' },
    http: { host: '0.0.0.0', port: 3000 },
    // Placeholders: the identity provider's issuer and the audience its tokens carry for Kepler.
    auth: { issuer: 'https://login.example.com', audience: 'api://kepler' },
    slots: ['blue', 'green'],
    roles: { ingestion: { instances: 1 }, publisher: { instances: 1 } },
    secrets: ['AMQP_PASSWORD'],
  });
  const production = (env: string) => ({
    ...servers(env),
    eventStore: { url: `esdb://es1-${env}:2113,es2-${env}:2113,es3-${env}:2113?tls=true`, tls: { ca: '/etc/kepler/tls/ca.pem' } },
    readStore: { url: `mongodb://mongo-${env}/?replicaSet=rs0&tls=true`, database: `kepler_${env}`, tls: { ca: '/etc/kepler/tls/ca.pem' } },
    broker: {
      url: `amqp://kepler:\${AMQP_PASSWORD}@rabbit-${env}:5672`,
      prefix: 'kepler',
      managementUrl: `https://kepler:\${AMQP_PASSWORD}@rabbit-${env}:15671`,
      topologyIntervalMs: 10_000,
    },
    http: { host: '0.0.0.0', port: 3000, tls: { cert: '/etc/kepler/tls/server.pem', key: '/etc/kepler/tls/server-key.pem' }, rateLimit: { max: 600, windowMs: 60_000 } },
    auth: { issuer: 'https://login.example.com', audience: 'api://kepler', clockSkewSeconds: 30 },
    gateway: { upstreams: { blue: `https://kepler-${env}-blue.internal:3000`, green: `https://kepler-${env}-green.internal:3000` } },
    roles: {
      ingestion: { instances: 2 },
      processors: { instances: 2, partitions: 2 },
      projections: { instances: 2, partitions: 2 },
      'command-api': { instances: 2 },
      'query-api': { instances: 3 },
      publisher: { instances: 1 },
      gateway: { instances: 2 },
      topology: { instances: 1 },
    },
    limits: { memoryMb: 4096, cpuMhz: 4000, readyMaxGapSeconds: 120 },
    features: { tracing: true },
    telemetry: {
      logLevel: 'info',
      otlpEndpoint: `http://otel-collector-${env}:4318`,
      splunkHec: { url: 'https://splunk-hec.example.com:8088', token: '${SPLUNK_HEC_TOKEN}', index: 'kepler', sourcetype: 'kepler:json' },
    },
    secrets: ['AMQP_PASSWORD', 'SPLUNK_HEC_TOKEN'],
  });
  return {
    dev: { dataDir: 'data/dev', http: { port: 3000 } },
    ci: { dataDir: 'data/ci', http: { port: 3001 }, features: { projectionsThread: false } },
    sit: servers('sit'),
    qa: servers('qa'),
    perf: { ...servers('perf'), limits: { memoryMb: 4096, cpuMhz: 4000 } },
    uat: servers('uat'),
    preprod: production('preprod'),
    prod: production('prod'),
    dr: production('dr'),
  };
}
