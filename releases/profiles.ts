// Deployment profiles: a base profile and one RFC 7396 merge patch per
// environment, rendered to one validated document per environment, hashed as
// canonical JSON. Secrets appear only as ${NAME} references to variables the
// profile declares; their values are read from the process environment when a
// process starts, and never written into a profile, a candidate or a job.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import jsonMergePatch from 'json-merge-patch';
import { canonicalJson, digestOf } from './canonical.js';
import { DeploymentProfile, RenderedProfile } from './schemas.js';
import { validate, ValidationError } from './validate.js';
import { checkIssuer, isLoopback } from '../authentication/index.js';

export const PROFILE_SCHEMA = 'kepler.deployment-profile/v1';
export type ProfileRole = keyof DeploymentProfile['roles'];
export const PARTITIONED_ROLES: readonly ProfileRole[] = ['processors', 'projections'];
const REFERENCE = /\$\{([A-Z_][A-Z0-9_]*)\}/g;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface Rendered {
  profile: RenderedProfile;
  /** Canonical JSON (RFC 8785): what is hashed, stored in a candidate and shipped to a job. */
  canonical: string;
  digest: string;
}

/**
 * RFC 7396: objects merge key by key, null removes, anything else replaces.
 * The base is not modified.
 */
export function applyMergePatch(base: unknown, patch: unknown, what = 'merge patch'): unknown {
  refuseForbiddenKeys(patch, what, '');
  return jsonMergePatch.apply(JSON.parse(JSON.stringify(base)) as unknown, patch);
}

/** The library skips the rest of a patch at a prototype key; such a key is refused instead of half applied. */
function refuseForbiddenKeys(value: unknown, what: string, path: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(key)) throw new ValidationError(what, [`${path}/${key}: key not allowed`]);
    refuseForbiddenKeys(child, what, `${path}/${key}`);
  }
}

/** One environment's profile: base + patch, validated (schema and rules), canonical, hashed. */
export function renderProfile(base: unknown, patch: unknown, environment: string, what = `profile ${environment}`): Rendered {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new ValidationError(what, ['the patch must be a JSON object (RFC 7396 merge patch)']);
  }
  const merged = validate(DeploymentProfile, applyMergePatch(base, patch, what), what);
  const profile = validate(RenderedProfile, { schema: PROFILE_SCHEMA, environment, ...merged }, what);
  checkRules(profile, what);
  const canonical = canonicalJson(profile);
  return { profile, canonical, digest: digestOf(profile) };
}

/** A rendered profile read back (from a candidate, or given to serve): validated and hashed again. */
export function readRendered(value: unknown, what: string): Rendered {
  const profile = validate(RenderedProfile, value, what);
  checkRules(profile, what);
  return { profile, canonical: canonicalJson(profile), digest: digestOf(profile) };
}

/** The roles that run in each slot, and those both slots share (they route between slots, or tend the broker). */
export const SLOT_PROFILE_ROLES: readonly ProfileRole[] = ['ingestion', 'processors', 'projections', 'command-api', 'query-api', 'publisher'];
export const SHARED_PROFILE_ROLES: readonly ProfileRole[] = ['gateway', 'topology'];
type RoleSpecValue = { instances: number; partitions?: number };

/** A role's spec; a role a profile leaves out (gateway, topology in older profiles) runs no instances. */
export function roleSpec(profile: DeploymentProfile, role: ProfileRole): RoleSpecValue {
  return profile.roles[role] ?? { instances: 0 };
}

/** What a schema cannot say. */
export function checkRules(profile: DeploymentProfile, what: string): void {
  const errors: string[] = [];
  for (const role of [...SLOT_PROFILE_ROLES, ...SHARED_PROFILE_ROLES]) {
    const spec = roleSpec(profile, role);
    const partitions = spec.partitions ?? 1;
    if (PARTITIONED_ROLES.includes(role)) {
      if (spec.instances !== 0 && spec.instances !== partitions) {
        errors.push(`/roles/${role}: ${spec.instances} instance(s) for ${partitions} partition(s); each partition is one process`);
      }
    } else if (spec.partitions !== undefined && spec.partitions !== 1) {
      errors.push(`/roles/${role}/partitions: only processors and projections are partitioned`);
    }
  }
  if (profile.roles.publisher.instances > 1) errors.push('/roles/publisher/instances: one publisher per slot (it follows one checkpoint)');
  if (!profile.broker.url) {
    for (const role of ['ingestion', 'publisher', 'topology'] as const) {
      if (roleSpec(profile, role).instances > 0) errors.push(`/roles/${role}: needs /broker/url (RabbitMQ)`);
    }
    if (profile.broker.managementUrl) errors.push('/broker/managementUrl: needs /broker/url');
  }
  checkGateway(profile, errors);
  checkAuthentication(profile, errors);
  checkSecrets(profile, errors);
  if (profile.telemetry?.pushMetrics && !profile.telemetry.otlpEndpoint) errors.push('/telemetry/pushMetrics: needs /telemetry/otlpEndpoint');
  if (errors.length > 0) throw new ValidationError(what, errors);
}

/** A gateway needs an address for every slot the environment runs, and none for a slot it does not. */
function checkGateway(profile: DeploymentProfile, errors: string[]): void {
  const upstreams = profile.gateway?.upstreams ?? {};
  for (const slot of ['blue', 'green'] as const) {
    if (upstreams[slot] !== undefined && !(profile.slots as string[]).includes(slot)) errors.push(`/gateway/upstreams/${slot}: the environment runs no ${slot} slot (/slots)`);
  }
  if (roleSpec(profile, 'gateway').instances > 0) {
    for (const slot of profile.slots) if (upstreams[slot] === undefined) errors.push(`/gateway/upstreams/${slot}: the gateway role needs the address of slot ${slot}`);
  }
}

/**
 * The rule a process applies when it starts (app/security.ts), applied when the profile is
 * validated, so a profile that cannot run fails at `profile validate` and `release cut`, not
 * at deployment: authentication off is for loopback (a developer's machine, a CI runner);
 * every process serves HTTP (its APIs, or at least health and /status), so a profile that
 * listens beyond loopback needs /auth, or says /insecure: true, which the candidate then
 * records for everyone to see. The rule keys on where processes listen rather than on an
 * environment's name, which the pipeline chooses.
 */
function checkAuthentication(profile: DeploymentProfile, errors: string[]): void {
  if (profile.auth) {
    try {
      checkIssuer(profile.auth.issuer);
    } catch (error) {
      errors.push(`/auth/issuer: ${(error as Error).message.replace(/^KEPLER_AUTH_ISSUER /, '')}`);
    }
    if (profile.insecure) errors.push('/insecure: authentication is on (/auth); insecure means serving beyond loopback without it');
    return;
  }
  if (!isLoopback(profile.http.host) && !profile.insecure) {
    errors.push(
      `/auth: processes listen on ${profile.http.host} with authentication off; configure /auth (issuer, audience), ` +
        'or listen on loopback, or set /insecure to true',
    );
  }
}

// ── Secrets ─────────────────────────────────────────────────────────────────

/**
 * Every field that may carry a secret, as a JSON pointer pattern: URLs (a
 * password in userinfo, a token in a parameter) and tokens (the whole value is
 * a reference). Only these are expanded; a ${NAME} anywhere else is refused.
 */
export const SECRET_FIELDS: ReadonlyArray<{ pointer: RegExp; kind: 'url' | 'token' }> = [
  { pointer: /^\/(eventStore|readStore|broker)\/url$/, kind: 'url' },
  { pointer: /^\/broker\/managementUrl$/, kind: 'url' },
  { pointer: /^\/gateway\/upstreams\/(blue|green)$/, kind: 'url' },
  { pointer: /^\/auth\/issuer$/, kind: 'url' },
  { pointer: /^\/telemetry\/otlpEndpoint$/, kind: 'url' },
  { pointer: /^\/telemetry\/splunkHec\/url$/, kind: 'url' },
  { pointer: /^\/telemetry\/splunkHec\/token$/, kind: 'token' },
];
const WHOLE_REFERENCE = /^\$\{[A-Z_][A-Z0-9_]*\}$/;

function checkSecrets(profile: DeploymentProfile, errors: string[]): void {
  const declared = new Set(profile.secrets);
  const used = new Set<string>();
  for (const [pointer, value] of stringsOf(profile, '')) {
    if (pointer.startsWith('/secrets/')) continue;
    const field = SECRET_FIELDS.find((f) => f.pointer.test(pointer));
    const references = [...value.matchAll(REFERENCE)].map((m) => m[1]!);
    if (!field) {
      if (references.length > 0 || value.includes('${')) errors.push(`${pointer}: \${…} is expanded only in URLs and tokens; this field is taken as written`);
      continue;
    }
    for (const name of references) {
      used.add(name);
      if (!declared.has(name)) errors.push(`${pointer}: references \${${name}}, which /secrets does not declare`);
    }
    const literal = field.kind === 'token' ? (WHOLE_REFERENCE.test(value) ? null : 'a secret value; the token must be a ${NAME} reference') : literalSecret(value);
    if (literal) errors.push(`${pointer}: ${literal}; put it in a variable and reference it as \${NAME}`);
  }
  for (const name of declared) if (!used.has(name)) errors.push(`/secrets: ${name} is declared but nothing references it`);
}

/** Every string in a value, with its JSON pointer (RFC 6901). */
function stringsOf(value: unknown, pointer: string): Array<[string, string]> {
  if (typeof value === 'string') return [[pointer, value]];
  if (value === null || typeof value !== 'object') return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  return entries.flatMap(([key, child]) => stringsOf(child, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`));
}

/** Why a URL holds a secret value rather than a reference; null when it does not. */
function literalSecret(url: string): string | null {
  const afterScheme = url.slice(url.indexOf('://') + 3);
  const authority = afterScheme.split(/[/?#]/, 1)[0]!;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon >= 0 && !WHOLE_REFERENCE.test(userinfo.slice(colon + 1))) return 'the URL carries a password';
  }
  const query = afterScheme.includes('?') ? afterScheme.slice(afterScheme.indexOf('?') + 1).split('#')[0]! : '';
  for (const pair of query.split('&').filter(Boolean)) {
    const [key, value = ''] = pair.split('=');
    if (/pass|secret|token|key|signature|sig$/i.test(key!) && !WHOLE_REFERENCE.test(value)) return `the URL parameter ${key} carries a secret`;
  }
  return null;
}

/** The URL with each ${NAME} replaced by the variable's value (percent-encoded: it may hold '@' or ':'). */
export function expandSecrets(url: string, env: NodeJS.ProcessEnv, what: string): string {
  return url.replace(REFERENCE, (_, name: string) => encodeURIComponent(secretValue(name, env, what)));
}

/** A token field: the whole value is one ${NAME} reference, replaced by the variable's value as it is. */
export function expandSecret(reference: string, env: NodeJS.ProcessEnv, what: string): string {
  return reference.replace(REFERENCE, (_, name: string) => secretValue(name, env, what));
}

function secretValue(name: string, env: NodeJS.ProcessEnv, what: string): string {
  const value = env[name];
  if (value === undefined) throw new Error(`${what} needs the variable ${name}, which is not set`);
  return value;
}

// ── Files ───────────────────────────────────────────────────────────────────

export interface ProfileSources {
  base: unknown;
  /** Each environment's merge patch; an environment without a file has the empty patch. */
  patches: Map<string, unknown>;
}

/** profiles/base.json and profiles/ENV.json of a pipeline repository. */
export function readProfileSources(dir: string, environments: readonly string[]): ProfileSources {
  const base = readJson(join(dir, 'base.json'));
  const patches = new Map<string, unknown>();
  for (const env of environments) {
    const file = join(dir, `${env}.json`);
    patches.set(env, existsSync(file) ? readJson(file) : {});
  }
  return { base, patches };
}

export function renderAll(sources: ProfileSources, dir = 'profiles'): Map<string, Rendered> {
  const rendered = new Map<string, Rendered>();
  const problems: string[] = [];
  validateBase(sources.base, join(dir, 'base.json'), problems);
  for (const [env, patch] of sources.patches) {
    try {
      rendered.set(env, renderProfile(sources.base, patch, env, `${join(dir, `${env}.json`)} (base + patch)`));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return rendered;
}

function validateBase(base: unknown, what: string, problems: string[]): void {
  try {
    validate(DeploymentProfile, base, what);
  } catch (error) {
    problems.push((error as Error).message);
  }
}

/**
 * What `kepler serve --profile FILE --env NAME` runs: FILE is either a rendered
 * profile (it names its environment, which must be NAME) or a base profile,
 * patched by NAME.json beside it.
 */
export function loadProfileFile(file: string, environment: string): Rendered {
  const value = readJson(file);
  if (value !== null && typeof value === 'object' && (value as { schema?: unknown }).schema === PROFILE_SCHEMA) {
    const rendered = readRendered(value, file);
    if (rendered.profile.environment !== environment) {
      throw new Error(`${file} is the profile of ${rendered.profile.environment}, not of ${environment}`);
    }
    return rendered;
  }
  if (basename(file) === `${environment}.json`) throw new Error(`${file} is a patch: give the base profile (base.json) and --env ${environment}`);
  const patchFile = join(dirname(file), `${environment}.json`);
  if (!existsSync(patchFile)) throw new Error(`no profile patch for ${environment}: ${patchFile} does not exist`);
  return renderProfile(value, readJson(patchFile), environment, `${patchFile} (base + patch)`);
}

export function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${file} is not JSON: ${(error as Error).message}`);
  }
}

// ── Running from a profile ──────────────────────────────────────────────────

type TlsFilesValue = { ca?: string; cert?: string; key?: string };
type StoreSettings = { url?: string; tls?: TlsFilesValue; poolSize?: number; statementTimeoutMs?: number; lockTimeoutMs?: number; connectTimeoutMs?: number; migrate?: boolean };

/** The configuration-file shape app/config.ts reads (structurally: releases/ does not import app/), filled from a profile. */
export interface ProfileSettings {
  dataDir: string;
  roles: string[];
  http: {
    host: string;
    port: number;
    tls?: { cert: string; key: string };
    cors?: { origins: string[] };
    rateLimit?: { max: number; windowMs?: number };
  };
  auth?: {
    issuer: string;
    audience: string;
    algorithms?: string[];
    clockSkewSeconds?: number;
    entitlementsClaim?: string;
    publicPaths?: string[];
    jwksCooldownMs?: number;
    jwksCacheMaxAgeMs?: number;
  };
  insecure?: boolean;
  eventStore: StoreSettings;
  readStore: StoreSettings & { database?: string };
  amqp?: { url: string; prefix: string; managementUrl?: string; topologyIntervalMs?: number; tls?: TlsFilesValue };
  gateway?: { blue?: string; green?: string };
  readYourWritesTimeoutMs: number;
  projectionsThread: boolean;
  readyMaxGapSeconds?: number;
  storeWaitMs?: number;
}

/**
 * The settings a process of this environment runs with. Secrets are expanded
 * from `env` here, at the last moment, so they exist only in the process.
 */
export function settingsFromProfile(profile: RenderedProfile, env: NodeJS.ProcessEnv): ProfileSettings {
  const what = `profile ${profile.environment}`;
  const expand = (url: string | undefined, field: string) => (url === undefined ? undefined : expandSecrets(url, env, `${what} ${field}`));
  const { url: eventStoreUrl, ...eventStore } = profile.eventStore;
  const { url: readStoreUrl, ...readStore } = profile.readStore;
  const brokerUrl = expand(profile.broker.url, '/broker/url');
  const managementUrl = expand(profile.broker.managementUrl, '/broker/managementUrl');
  const { tls, rateLimit, corsOrigins, host, port } = profile.http;
  const upstreams = profile.gateway?.upstreams;
  const blue = expand(upstreams?.blue, '/gateway/upstreams/blue');
  const green = expand(upstreams?.green, '/gateway/upstreams/green');
  const { limits } = profile;
  return {
    dataDir: profile.dataDir,
    // What a process runs unless --roles says otherwise: its slot's roles. The gateway and the topology
    // reconciler run where they are named, as for `kepler serve` (a process with the gateway runs nothing else).
    roles: SLOT_PROFILE_ROLES.filter((role) => roleSpec(profile, role).instances > 0),
    http: { host, port, ...(tls && { tls }), ...(corsOrigins && { cors: { origins: corsOrigins } }), ...(rateLimit && { rateLimit }) },
    ...(profile.auth && { auth: { ...profile.auth, issuer: expand(profile.auth.issuer, '/auth/issuer')! } }),
    ...(profile.insecure !== undefined && { insecure: profile.insecure }),
    eventStore: { ...eventStore, ...(eventStoreUrl && { url: expand(eventStoreUrl, '/eventStore/url') }) },
    readStore: { ...readStore, ...(readStoreUrl && { url: expand(readStoreUrl, '/readStore/url') }) },
    ...(brokerUrl && {
      amqp: {
        url: brokerUrl,
        prefix: profile.broker.prefix,
        ...(managementUrl && { managementUrl }),
        ...(profile.broker.topologyIntervalMs !== undefined && { topologyIntervalMs: profile.broker.topologyIntervalMs }),
        ...(profile.broker.tls && { tls: profile.broker.tls }),
      },
    }),
    ...(upstreams && { gateway: { ...(blue && { blue }), ...(green && { green }) } }),
    readYourWritesTimeoutMs: limits.readYourWritesTimeoutMs,
    projectionsThread: profile.features.projectionsThread,
    ...(limits.readyMaxGapSeconds !== undefined && { readyMaxGapSeconds: limits.readyMaxGapSeconds }),
    ...(limits.storeWaitMs !== undefined && { storeWaitMs: limits.storeWaitMs }),
  };
}

/**
 * What the profile sets that the platform reads from variables when its
 * modules load or its telemetry starts (limits, logging, OpenTelemetry, Splunk
 * HEC, the environment's name): the existing variables, never parallel ones.
 * The HEC token is expanded here, so it too exists only in the process.
 */
export function processEnvironmentFromProfile(profile: RenderedProfile, env: NodeJS.ProcessEnv): Record<string, string> {
  const what = `profile ${profile.environment}`;
  const telemetry = profile.telemetry ?? {};
  const hec = telemetry.splunkHec;
  return {
    KEPLER_ENVIRONMENT: profile.environment,
    ...(profile.limits.processorCache !== undefined && { KEPLER_PROCESSOR_CACHE: String(profile.limits.processorCache) }),
    KEPLER_REBUILD_DOCUMENTS: String(profile.limits.rebuildDocuments),
    ...(profile.limits.catchUpDocuments !== undefined && { KEPLER_CATCHUP_DOCUMENTS: String(profile.limits.catchUpDocuments) }),
    ...(profile.limits.catchUpStalenessMs !== undefined && { KEPLER_CATCHUP_STALENESS_MS: String(profile.limits.catchUpStalenessMs) }),
    ...(profile.limits.catchUpHeadGap !== undefined && { KEPLER_CATCHUP_HEAD_GAP: String(profile.limits.catchUpHeadGap) }),
    ...(telemetry.logLevel && { KEPLER_LOG_LEVEL: telemetry.logLevel }),
    // An OTLP endpoint alone would turn tracing on: the feature switch decides.
    OTEL_TRACES_EXPORTER: profile.features.tracing ? 'otlp' : 'none',
    ...(telemetry.otlpEndpoint && { OTEL_EXPORTER_OTLP_ENDPOINT: expandSecrets(telemetry.otlpEndpoint, env, `${what} /telemetry/otlpEndpoint`) }),
    ...(telemetry.pushMetrics && { OTEL_METRICS_EXPORTER: 'otlp' }),
    ...(hec && {
      KEPLER_SPLUNK_HEC_URL: expandSecrets(hec.url, env, `${what} /telemetry/splunkHec/url`),
      KEPLER_SPLUNK_HEC_TOKEN: expandSecret(hec.token, env, `${what} /telemetry/splunkHec/token`),
      ...(hec.index && { KEPLER_SPLUNK_HEC_INDEX: hec.index }),
      ...(hec.source && { KEPLER_SPLUNK_HEC_SOURCE: hec.source }),
      ...(hec.sourcetype && { KEPLER_SPLUNK_HEC_SOURCETYPE: hec.sourcetype }),
    }),
  };
}

/** The share a process takes: each partitioned role it runs must be given as many partitions as the profile says. */
export function checkPartition(profile: RenderedProfile, roles: readonly string[], partition: { index: number; count: number }): void {
  for (const role of PARTITIONED_ROLES) {
    if (!roles.includes(role)) continue;
    const partitions = roleSpec(profile, role).partitions ?? 1;
    if (partitions !== partition.count) {
      throw new Error(`profile ${profile.environment} runs ${role} in ${partitions} partition(s): give --roles ${role} --partition i/${partitions}`);
    }
  }
}
