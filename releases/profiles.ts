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

/** What a schema cannot say. */
export function checkRules(profile: DeploymentProfile, what: string): void {
  const errors: string[] = [];
  for (const [role, spec] of Object.entries(profile.roles) as Array<[ProfileRole, { instances: number; partitions?: number }]>) {
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
    for (const role of ['ingestion', 'publisher'] as const) {
      if (profile.roles[role].instances > 0) errors.push(`/roles/${role}: needs /broker/url (RabbitMQ)`);
    }
  }
  const declared = new Set(profile.secrets);
  const used = new Set<string>();
  for (const [path, url] of urlsOf(profile)) {
    for (const match of url.matchAll(REFERENCE)) {
      used.add(match[1]!);
      if (!declared.has(match[1]!)) errors.push(`${path}: references \${${match[1]}}, which /secrets does not declare`);
    }
    const literal = literalSecret(url);
    if (literal) errors.push(`${path}: ${literal}; put it in a variable and reference it as \${NAME}`);
  }
  for (const name of declared) if (!used.has(name)) errors.push(`/secrets: ${name} is declared but no URL references it`);
  if (errors.length > 0) throw new ValidationError(what, errors);
}

function urlsOf(profile: DeploymentProfile): Array<[string, string]> {
  const urls: Array<[string, string]> = [];
  if (profile.eventStore.url) urls.push(['/eventStore/url', profile.eventStore.url]);
  if (profile.readStore.url) urls.push(['/readStore/url', profile.readStore.url]);
  if (profile.broker.url) urls.push(['/broker/url', profile.broker.url]);
  return urls;
}

/** Why a URL holds a secret value rather than a reference; null when it does not. */
function literalSecret(url: string): string | null {
  const afterScheme = url.slice(url.indexOf('://') + 3);
  const authority = afterScheme.split(/[/?#]/, 1)[0]!;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    if (colon >= 0 && !/^\$\{[A-Z_][A-Z0-9_]*\}$/.test(userinfo.slice(colon + 1))) return 'the URL carries a password';
  }
  const query = afterScheme.includes('?') ? afterScheme.slice(afterScheme.indexOf('?') + 1).split('#')[0]! : '';
  for (const pair of query.split('&').filter(Boolean)) {
    const [key, value = ''] = pair.split('=');
    if (/pass|secret|token|key/i.test(key!) && !/^\$\{[A-Z_][A-Z0-9_]*\}$/.test(value)) return `the URL parameter ${key} carries a secret`;
  }
  return null;
}

/** The URL with each ${NAME} replaced by the variable's value (percent-encoded: it may hold '@' or ':'). */
export function expandSecrets(url: string, env: NodeJS.ProcessEnv, what: string): string {
  return url.replace(REFERENCE, (_, name: string) => {
    const value = env[name];
    if (value === undefined) throw new Error(`${what} needs the variable ${name}, which is not set`);
    return encodeURIComponent(value);
  });
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

/** The configuration-file shape app/config.ts reads (structurally), filled from a profile. */
export interface ProfileSettings {
  dataDir: string;
  roles: string[];
  http: { host: string; port: number };
  eventStore: { url?: string };
  readStore: { url?: string; database?: string };
  amqp?: { url: string; prefix: string };
  readYourWritesTimeoutMs: number;
  projectionsThread: boolean;
}

/**
 * The settings a process of this environment runs with. Secrets are expanded
 * from `env` here, at the last moment, so they exist only in the process.
 */
export function settingsFromProfile(profile: RenderedProfile, env: NodeJS.ProcessEnv): ProfileSettings {
  const what = `profile ${profile.environment}`;
  const expand = (url: string | undefined, field: string) => (url === undefined ? undefined : expandSecrets(url, env, `${what} ${field}`));
  const eventStoreUrl = expand(profile.eventStore.url, '/eventStore/url');
  const readStoreUrl = expand(profile.readStore.url, '/readStore/url');
  const brokerUrl = expand(profile.broker.url, '/broker/url');
  return {
    dataDir: profile.dataDir,
    roles: (Object.entries(profile.roles) as Array<[string, { instances: number }]>).filter(([, spec]) => spec.instances > 0).map(([role]) => role),
    http: profile.http,
    eventStore: eventStoreUrl ? { url: eventStoreUrl } : {},
    readStore: { ...(readStoreUrl && { url: readStoreUrl }), ...(profile.readStore.database && { database: profile.readStore.database }) },
    ...(brokerUrl && { amqp: { url: brokerUrl, prefix: profile.broker.prefix } }),
    readYourWritesTimeoutMs: profile.limits.readYourWritesTimeoutMs,
    projectionsThread: profile.features.projectionsThread,
  };
}

/** The share a process takes: each partitioned role it runs must be given as many partitions as the profile says. */
export function checkPartition(profile: RenderedProfile, roles: readonly string[], partition: { index: number; count: number }): void {
  for (const role of PARTITIONED_ROLES) {
    if (!roles.includes(role)) continue;
    const partitions = profile.roles[role].partitions ?? 1;
    if (partitions !== partition.count) {
      throw new Error(`profile ${profile.environment} runs ${role} in ${partitions} partition(s): give --roles ${role} --partition i/${partitions}`);
    }
  }
}
