import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type KeplerConfig } from '../app/config.js';
import { canonicalJson } from './canonical.js';
import { defaultBaseProfile, defaultPatches } from './pipeline.js';
import {
  applyMergePatch,
  checkPartition,
  expandSecrets,
  loadProfileFile,
  processEnvironmentFromProfile,
  PROFILE_SCHEMA,
  readRendered,
  renderAll,
  renderProfile,
  SECRET_FIELDS,
  settingsFromProfile,
} from './profiles.js';
import { ValidationError } from './validate.js';

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
    const patch = { http: { port: 4000, host: '127.0.0.2' }, dataDir: 'x' };
    const reordered = { dataDir: 'x', http: { host: '127.0.0.2', port: 4000 } };
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
    expect(() => renderProfile(base, { secrets: ['UNUSED'] }, 'dev')).toThrow(/UNUSED is declared but nothing references it/);
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

// ── A complete profile: everything a production process needs ──────────────

/**
 * Every field the profile has, set to something other than its default, so a
 * field that is read but never mapped shows as a difference. (This test loads
 * app/config.ts on purpose: the mapping is structural, and only the real
 * loadConfig proves the settings mean what the profile says.)
 */
function completeProfile(): Record<string, unknown> {
  return {
    ...defaultBaseProfile(),
    dataDir: '/var/lib/kepler/prod',
    eventStore: { url: 'esdb://es1:2113,es2:2113?tls=true', tls: { ca: '/tls/es-ca.pem', cert: '/tls/es.pem', key: '/tls/es-key.pem' } },
    readStore: { url: 'mongodb://kepler:${MONGO_PASSWORD}@mongo/?replicaSet=rs0', database: 'kepler_prod', poolSize: 25, tls: { ca: '/tls/mongo-ca.pem' } },
    broker: {
      url: 'amqps://kepler:${AMQP_PASSWORD}@rabbit:5671',
      prefix: 'kprod',
      managementUrl: 'https://kepler:${AMQP_PASSWORD}@rabbit:15671',
      topologyIntervalMs: 2500,
      tls: { ca: '/tls/rabbit-ca.pem', cert: '/tls/rabbit.pem', key: '/tls/rabbit-key.pem' },
    },
    http: {
      host: '0.0.0.0',
      port: 8443,
      tls: { cert: '/tls/server.pem', key: '/tls/server-key.pem' },
      rateLimit: { max: 120, windowMs: 10_000 },
      corsOrigins: ['https://desk.example.com', 'https://ops.example.com'],
    },
    auth: {
      issuer: 'https://login.example.com/realms/bank',
      audience: 'api://kepler',
      algorithms: ['ES256', 'RS256'],
      clockSkewSeconds: 5,
      entitlementsClaim: 'accounts',
      publicPaths: ['/health/live', '/health/ready'],
      jwksCooldownMs: 1000,
      jwksCacheMaxAgeMs: 60_000,
    },
    slots: ['blue', 'green'],
    gateway: { upstreams: { blue: 'https://kepler-blue.internal:8443', green: 'https://kepler-green.internal:8443' } },
    roles: {
      ingestion: { instances: 2 },
      processors: { instances: 4, partitions: 4 },
      projections: { instances: 2, partitions: 2 },
      'command-api': { instances: 2 },
      'query-api': { instances: 3 },
      publisher: { instances: 1 },
      gateway: { instances: 3 },
      topology: { instances: 2 },
    },
    limits: { memoryMb: 4096, cpuMhz: 4000, readYourWritesTimeoutMs: 1500, processorCache: 5000, rebuildDocuments: 7000, catchUpDocuments: 30000, catchUpStalenessMs: 2500, catchUpHeadGap: 20000, readyMaxGapSeconds: 45, storeWaitMs: 9000 },
    features: { projectionsThread: false, tracing: true },
    telemetry: {
      logLevel: 'warn',
      otlpEndpoint: 'http://otel-collector:4318',
      pushMetrics: true,
      splunkHec: { url: 'https://hec.example.com:8088', token: '${SPLUNK_HEC_TOKEN}', index: 'kepler', source: 'kepler-prod', sourcetype: 'kepler:json' },
    },
    secrets: ['AMQP_PASSWORD', 'MONGO_PASSWORD', 'SPLUNK_HEC_TOKEN'],
  };
}
const SECRET_VALUES = { AMQP_PASSWORD: 'amqp p@ss', MONGO_PASSWORD: 'mongo:pw', SPLUNK_HEC_TOKEN: 'hec-token-1234' };
const configOf = (profile: unknown, env: NodeJS.ProcessEnv = SECRET_VALUES) => loadConfig({ settings: settingsFromProfile(readRendered(profile, 'test').profile, env) }, {});
const rendered = (value: Record<string, unknown>, environment = 'prod') => ({ schema: PROFILE_SCHEMA, environment, ...value });

describe('a complete profile', () => {
  it('configures everything a production process needs, with no KEPLER_* variable: only the secrets’ values', () => {
    const profile = rendered(completeProfile());
    const config = configOf(profile);
    expect(config).toEqual({
      dataDir: '/var/lib/kepler/prod',
      slot: 'blue',
      gateway: { upstreams: { blue: 'https://kepler-blue.internal:8443', green: 'https://kepler-green.internal:8443' } },
      roles: ['ingestion', 'processors', 'projections', 'command-api', 'query-api', 'publisher'],
      partition: { index: 0, count: 1 },
      amqp: {
        url: 'amqps://kepler:amqp%20p%40ss@rabbit:5671',
        prefix: 'kprod',
        slot: 'blue',
        managementUrl: 'https://kepler:amqp%20p%40ss@rabbit:15671',
        topologyIntervalMs: 2500,
        tls: { ca: '/tls/rabbit-ca.pem', cert: '/tls/rabbit.pem', key: '/tls/rabbit-key.pem' },
      },
      http: {
        host: '0.0.0.0',
        port: 8443,
        tls: { cert: '/tls/server.pem', key: '/tls/server-key.pem' },
        corsOrigins: ['https://desk.example.com', 'https://ops.example.com'],
        rateLimit: { max: 120, windowMs: 10_000 },
      },
      auth: {
        issuer: 'https://login.example.com/realms/bank',
        audience: 'api://kepler',
        algorithms: ['ES256', 'RS256'],
        clockSkewSeconds: 5,
        entitlementsClaim: 'accounts',
        jwksCooldownMs: 1000,
        jwksCacheMaxAgeMs: 60_000,
      },
      publicPaths: ['/health/live', '/health/ready'],
      insecure: false,
      eventStore: { kind: 'eventstoredb', url: 'esdb://es1:2113,es2:2113?tls=true', tls: { ca: '/tls/es-ca.pem', cert: '/tls/es.pem', key: '/tls/es-key.pem' } },
      readStore: { kind: 'mongodb', url: 'mongodb://kepler:mongo%3Apw@mongo/?replicaSet=rs0', database: 'kepler_prod', poolSize: 25, tls: { ca: '/tls/mongo-ca.pem' } },
      storeWaitMs: 9000,
      projectionsThread: false,
      readYourWritesTimeoutMs: 1500,
      readyMaxGapSeconds: 45,
    });
    expect(processEnvironmentFromProfile(readRendered(profile, 'test').profile, SECRET_VALUES)).toEqual({
      KEPLER_ENVIRONMENT: 'prod',
      KEPLER_PROCESSOR_CACHE: '5000',
      KEPLER_REBUILD_DOCUMENTS: '7000',
      KEPLER_CATCHUP_DOCUMENTS: '30000',
      KEPLER_CATCHUP_STALENESS_MS: '2500',
      KEPLER_CATCHUP_HEAD_GAP: '20000',
      KEPLER_LOG_LEVEL: 'warn',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
      OTEL_METRICS_EXPORTER: 'otlp',
      KEPLER_SPLUNK_HEC_URL: 'https://hec.example.com:8088',
      KEPLER_SPLUNK_HEC_TOKEN: 'hec-token-1234',
      KEPLER_SPLUNK_HEC_INDEX: 'kepler',
      KEPLER_SPLUNK_HEC_SOURCE: 'kepler-prod',
      KEPLER_SPLUNK_HEC_SOURCETYPE: 'kepler:json',
    });
  });

  // One field changed at a time: each must reach the configuration (a field read but dropped stays at its old value).
  const changes: Array<[string, (p: Record<string, any>) => void, (c: KeplerConfig) => unknown, unknown]> = [
    ['/auth/issuer', (p) => (p.auth.issuer = 'https://idp.example.org'), (c) => c.auth?.issuer, 'https://idp.example.org'],
    ['/auth/audience', (p) => (p.auth.audience = 'kepler-api'), (c) => c.auth?.audience, 'kepler-api'],
    ['/auth/algorithms', (p) => (p.auth.algorithms = ['EdDSA']), (c) => c.auth?.algorithms, ['EdDSA']],
    ['/auth/clockSkewSeconds', (p) => (p.auth.clockSkewSeconds = 0), (c) => c.auth?.clockSkewSeconds, 0],
    ['/auth/entitlementsClaim ""', (p) => (p.auth.entitlementsClaim = ''), (c) => c.auth?.entitlementsClaim, null],
    ['/auth/publicPaths', (p) => (p.auth.publicPaths = ['/metrics']), (c) => c.publicPaths, ['/metrics']],
    ['/auth/jwksCooldownMs', (p) => (p.auth.jwksCooldownMs = 7), (c) => c.auth?.jwksCooldownMs, 7],
    ['/auth/jwksCacheMaxAgeMs', (p) => (p.auth.jwksCacheMaxAgeMs = 8), (c) => c.auth?.jwksCacheMaxAgeMs, 8],
    ['/auth absent', (p) => delete p.auth && (p.insecure = true), (c) => [c.auth, c.insecure], [null, true]],
    ['/http/tls absent', (p) => delete p.http.tls, (c) => c.http.tls, null],
    ['/http/rateLimit max 0', (p) => (p.http.rateLimit = { max: 0 }), (c) => c.http.rateLimit, null],
    ['/http/corsOrigins', (p) => (p.http.corsOrigins = ['https://a.example']), (c) => c.http.corsOrigins, ['https://a.example']],
    ['/http/host', (p) => (p.http.host = '10.0.0.5'), (c) => c.http.host, '10.0.0.5'],
    ['/broker/prefix', (p) => (p.broker.prefix = 'other'), (c) => c.amqp?.prefix, 'other'],
    ['/broker/managementUrl absent', (p) => delete p.broker.managementUrl, (c) => c.amqp?.managementUrl, 'http://kepler:amqp%20p%40ss@rabbit:15672/'],
    ['/broker/topologyIntervalMs', (p) => (p.broker.topologyIntervalMs = 100), (c) => c.amqp?.topologyIntervalMs, 100],
    ['/readStore/database', (p) => (p.readStore.database = 'other'), (c) => (c.readStore as { database: string }).database, 'other'],
    ['/gateway/upstreams/green', (p) => (p.gateway.upstreams.green = 'http://g:1'), (c) => c.gateway.upstreams.green, 'http://g:1'],
    ['/limits/readyMaxGapSeconds', (p) => (p.limits.readyMaxGapSeconds = 3), (c) => c.readyMaxGapSeconds, 3],
    ['/limits/storeWaitMs', (p) => (p.limits.storeWaitMs = 4), (c) => c.storeWaitMs, 4],
    ['/limits/readYourWritesTimeoutMs', (p) => (p.limits.readYourWritesTimeoutMs = 5), (c) => c.readYourWritesTimeoutMs, 5],
    ['/features/projectionsThread', (p) => (p.features.projectionsThread = true), (c) => c.projectionsThread, true],
    [
      '/eventStore and /readStore on PostgreSQL',
      (p) => {
        p.eventStore = { url: 'postgres://kepler:${MONGO_PASSWORD}@pg/events', poolSize: 12, statementTimeoutMs: 1, lockTimeoutMs: 2, connectTimeoutMs: 3, migrate: false };
        p.readStore = { url: 'postgres://kepler@pg/reads', poolSize: 6, statementTimeoutMs: 4 };
      },
      (c) => [c.eventStore, c.readStore],
      [
        { kind: 'postgres', url: 'postgres://kepler:mongo%3Apw@pg/events', settings: { poolSize: 12, statementTimeoutMs: 1, lockTimeoutMs: 2, connectTimeoutMs: 3 }, migrate: false },
        { kind: 'postgres', url: 'postgres://kepler@pg/reads', settings: { poolSize: 6, statementTimeoutMs: 4 }, migrate: true },
      ],
    ],
  ];
  it.each(changes)('maps %s', (_, change, pick, expected) => {
    const profile = completeProfile() as Record<string, any>;
    change(profile);
    expect(pick(configOf(rendered(profile)))).toEqual(expected);
  });

  it('every secret-capable field is covered by SECRET_FIELDS, and every one is mapped', () => {
    const pointers = ['/eventStore/url', '/readStore/url', '/broker/url', '/broker/managementUrl', '/gateway/upstreams/blue', '/gateway/upstreams/green', '/auth/issuer', '/telemetry/otlpEndpoint', '/telemetry/splunkHec/url', '/telemetry/splunkHec/token'];
    for (const pointer of pointers) expect(SECRET_FIELDS.some((f) => f.pointer.test(pointer)), pointer).toBe(true);
    // A reference in each is expanded where the platform reads it.
    const profile = completeProfile() as Record<string, any>;
    profile.secrets = ['S'];
    profile.eventStore.url = 'postgres://k:${S}@pg/e';
    profile.readStore = { url: 'mongodb://k:${S}@m/' };
    profile.broker.url = 'amqp://k:${S}@r';
    profile.broker.managementUrl = 'http://k:${S}@r:15672';
    profile.gateway.upstreams = { blue: 'http://b/?token=${S}', green: 'http://g/?token=${S}' };
    profile.auth.issuer = 'https://login.example.com/${S}';
    profile.telemetry.otlpEndpoint = 'http://otel/?key=${S}';
    profile.telemetry.splunkHec = { url: 'https://hec/?token=${S}', token: '${S}' };
    const env = { S: 'v@l' };
    const config = configOf(rendered(profile), env);
    const variables = processEnvironmentFromProfile(readRendered(rendered(profile), 'test').profile, env);
    const seen = JSON.stringify([config, variables]);
    expect(seen).not.toContain('${S}');
    // Nine URLs percent-encode the value; the token takes it as it is.
    expect(seen.match(/v%40l/g)).toHaveLength(9);
    expect(variables.KEPLER_SPLUNK_HEC_TOKEN).toBe('v@l');
  });
});

describe('secrets, in every field that can hold one', () => {
  const cases: Array<[string, (p: Record<string, any>) => void]> = [
    ['/eventStore/url', (p) => (p.eventStore.url = 'postgres://kepler:hunter2@pg/events')],
    ['/readStore/url', (p) => (p.readStore.url = 'mongodb://kepler:hunter2@mongo/')],
    ['/broker/url', (p) => (p.broker.url = 'amqp://kepler:hunter2@rabbit')],
    ['/broker/managementUrl', (p) => (p.broker.managementUrl = 'http://kepler:hunter2@rabbit:15672')],
    ['/gateway/upstreams/blue', (p) => (p.gateway.upstreams.blue = 'https://blue/?token=hunter2')],
    ['/gateway/upstreams/green', (p) => (p.gateway.upstreams.green = 'https://svc:hunter2@green/')],
    ['/auth/issuer', (p) => (p.auth.issuer = 'https://login.example.com/?client_secret=hunter2')],
    ['/telemetry/otlpEndpoint', (p) => (p.telemetry.otlpEndpoint = 'http://otel:4318/?api_key=hunter2')],
    ['/telemetry/splunkHec/url', (p) => (p.telemetry.splunkHec.url = 'https://x:hunter2@hec:8088')],
    ['/telemetry/splunkHec/token', (p) => (p.telemetry.splunkHec.token = 'hunter2')],
  ];
  it.each(cases)('a value in %s is refused, naming the pointer', (pointer, plant) => {
    const profile = completeProfile() as Record<string, any>;
    plant(profile);
    const error = (() => {
      try {
        readRendered(rendered(profile), 'prod profile');
        return null;
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error!.errors.filter((line) => line.includes('hunter2') || !line.startsWith(`${pointer}: `)).filter((line) => !line.startsWith('/secrets: '))).toEqual([]);
    expect(error!.errors.find((line) => line.startsWith(`${pointer}: `))).toMatch(/carries a password|carries a secret|a secret value/);
    expect(error!.message).not.toContain('hunter2');
  });

  it('a ${NAME} in a field that is never expanded is refused, and so is an undeclared one in a token', () => {
    expect(() => readRendered(rendered({ ...completeProfile(), dataDir: '/data/${AMQP_PASSWORD}' }), 'p')).toThrow(/\/dataDir: \$\{…\} is expanded only in URLs and tokens/);
    const undeclared = completeProfile() as Record<string, any>;
    undeclared.telemetry.splunkHec.token = '${HEC}';
    expect(() => readRendered(rendered(undeclared), 'p')).toThrow(/\/telemetry\/splunkHec\/token: references \$\{HEC\}, which \/secrets does not declare/);
    expect(() => processEnvironmentFromProfile(readRendered(rendered(completeProfile()), 'p').profile, {})).toThrow(/\/telemetry\/splunkHec\/url|needs the variable SPLUNK_HEC_TOKEN/);
  });
});

describe('authentication in a profile', () => {
  const base = defaultBaseProfile();
  it('refuses authentication off beyond loopback unless /insecure says so; loopback may run without', () => {
    expect(() => renderProfile(base, { http: { host: '0.0.0.0' } }, 'sit')).toThrow(/\/auth: processes listen on 0\.0\.0\.0 with authentication off; configure \/auth/);
    expect(renderProfile(base, { http: { host: '0.0.0.0' }, insecure: true }, 'sit').profile.insecure).toBe(true);
    expect(renderProfile(base, {}, 'dev').profile.auth).toBeUndefined();
    expect(() => renderProfile(base, { auth: { issuer: 'https://login.example.com', audience: 'api://kepler' }, insecure: true }, 'dev')).toThrow(/\/insecure: authentication is on/);
    expect(() => renderProfile(base, { auth: { issuer: 'http://login.example.com', audience: 'api://kepler' } }, 'dev')).toThrow(/\/auth\/issuer: must be https \(http only on loopback\)/);
    expect(() => renderProfile(base, { auth: { issuer: 'https://login.example.com', audience: 'a', algorithms: ['HS256'] } }, 'dev')).toThrow(/\/auth\/algorithms\/0: must be one of/);
    // A merge patch removes authentication with null, and the rule then applies to what is left.
    expect(() => renderProfile(base, { http: { host: '0.0.0.0' }, auth: null }, 'sit')).toThrow(/\/auth: processes listen/);
  });

  it('the default environments from sit on have authentication; dev and ci listen on loopback without it', () => {
    const all = renderAll({ base, patches: new Map(Object.entries(defaultPatches())) });
    for (const env of ['sit', 'qa', 'perf', 'uat', 'preprod', 'prod', 'dr']) expect(all.get(env)!.profile.auth, env).toMatchObject({ issuer: 'https://login.example.com', audience: 'api://kepler' });
    for (const env of ['dev', 'ci']) expect(all.get(env)!.profile.auth, env).toBeUndefined();
    const prod = all.get('prod')!.profile;
    expect(configOf(prod, { AMQP_PASSWORD: 'x', SPLUNK_HEC_TOKEN: 'y' }).auth).toMatchObject({ issuer: 'https://login.example.com', audience: 'api://kepler' });
    expect(prod.roles).toMatchObject({ gateway: { instances: 2 }, topology: { instances: 1 } });
  });
});

describe('gateway and topology roles', () => {
  const base = defaultBaseProfile();
  it('a gateway needs the address of every slot the environment runs, and of no other; topology needs the broker', () => {
    expect(() => renderProfile(base, { roles: { gateway: { instances: 2 } } }, 'dev')).toThrow(/\/gateway\/upstreams\/blue: the gateway role needs the address of slot blue/);
    expect(() => renderProfile(base, { gateway: { upstreams: { green: 'http://g' } } }, 'dev')).toThrow(/\/gateway\/upstreams\/green: the environment runs no green slot/);
    expect(renderProfile(base, { roles: { gateway: { instances: 5 } }, gateway: { upstreams: { blue: 'http://127.0.0.1:3001' } } }, 'dev').profile.roles.gateway).toEqual({ instances: 5 });
    expect(() => renderProfile(base, { roles: { topology: { instances: 1 } } }, 'dev')).toThrow(/\/roles\/topology: needs \/broker\/url/);
    expect(() => renderProfile(base, { roles: { gateway: { instances: 2, partitions: 2 } } }, 'dev')).toThrow(/only processors and projections are partitioned/);
  });

  it('run only where --roles names them: a profile’s default roles are its slot’s', () => {
    const all = renderAll({ base, patches: new Map(Object.entries(defaultPatches())) });
    expect(settingsFromProfile(all.get('prod')!.profile, { AMQP_PASSWORD: 'x' }).roles).not.toContain('gateway');
  });

  it('an older profile without them still reads (a rollback reads the candidate’s frozen profile)', () => {
    const older = rendered({ ...defaultBaseProfile() }, 'dev');
    expect(readRendered(older, 'old').profile.roles.gateway).toBeUndefined();
  });
});
