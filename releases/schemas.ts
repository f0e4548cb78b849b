// The release model as TypeBox schemas: one declaration gives the TypeScript
// types, the validators and the JSON Schema files in releases/schemas/.
// Every object is closed (unknown keys are refused), so a misspelt setting is an
// error, never silently ignored.
import { Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { DEFAULT_ALGORITHMS, DEFAULT_PUBLIC_PATHS } from '../authentication/index.js';
import { CALVER_PATTERN } from './calver.js';

const closed = <T extends TProperties>(properties: T, options: { title?: string; description?: string } = {}): TObject<T> =>
  Type.Object(properties, { additionalProperties: false, ...options });

/**
 * A union told apart by one property, as JSON Schema's oneOf with a
 * discriminator: a validator then reports the errors of the branch the tag
 * names, not of every branch.
 */
function tagged<T extends TSchema[]>(tag: string, schemas: [...T], options: { title?: string } = {}) {
  return Type.Unsafe<Static<T[number]>>({ ...options, type: 'object', oneOf: schemas, discriminator: { propertyName: tag } });
}

export const CalVerId = Type.String({ pattern: CALVER_PATTERN, title: 'CalVer', description: 'YYYY.MDD.N or YYYY.MDD.N-rc.K (month and day unpadded as one number)' });
export const Digest = Type.String({ pattern: '^sha256:[0-9a-f]{64}$', description: 'sha256 of the canonical JSON (RFC 8785)' });
export const Timestamp = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$', description: 'UTC instant, RFC 3339' });
export const EnvironmentName = Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' });
export const Integrity = Type.String({ pattern: '^sha512-[A-Za-z0-9+/]{86}==$', description: 'Subresource Integrity of the npm tarball' });
export const Commit = Type.String({ pattern: '^([0-9a-f]{40}|[0-9a-f]{64})$' });
export const PackageName = Type.String({ pattern: '^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$', maxLength: 214 });
export const HttpUrl = Type.String({ pattern: '^https?://[^\\s]+$' });
/** ISO 8601 duration in days, hours, minutes and seconds: PT2H, P1DT12H. */
export const Duration = Type.String({ pattern: '^P(?=\\d|T\\d)(\\d+D)?(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+S)?)?$' });
export const SlotName = Type.Union([Type.Literal('blue'), Type.Literal('green')]);
export const SecretName = Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' });
/** A server URL; a credential in it is a ${VARIABLE} reference, never a value (checked beyond the schema). */
export const ServerUrl = Type.String({ pattern: '^[a-z][a-z0-9+.-]*://\\S+$' });
export const FilePath = Type.String({ minLength: 1 });

export const ActorSchema = closed({
  subject: Type.String({ minLength: 1 }),
  clientId: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
});
export type ActorValue = Static<typeof ActorSchema>;

export const CandidateRef = closed({ id: CalVerId, digest: Digest });
export type CandidateRef = Static<typeof CandidateRef>;

// ── ReleaseCandidate ────────────────────────────────────────────────────────

export const ReleaseCandidate = closed(
  {
    schema: Type.Literal('kepler.release-candidate/v1'),
    id: CalVerId,
    createdAt: Timestamp,
    createdBy: ActorSchema,
    source: closed({
      commit: Commit,
      /** Tracked files differed from the commit when it was cut. */
      dirty: Type.Boolean(),
      remote: Type.Union([Type.String(), Type.Null()]),
    }),
    artifact: closed({
      name: PackageName,
      /** A child candidate keeps its parent's artifact, so this may be an older id. */
      version: CalVerId,
      integrity: Integrity,
      size: Type.Integer({ minimum: 1 }),
      registry: Type.Union([HttpUrl, Type.Null()]),
    }),
    eventSchemaVersion: Type.Integer({ minimum: 1 }),
    projections: Type.Array(
      closed({
        name: Type.String({ minLength: 1 }),
        version: Type.Integer({ minimum: 1 }),
        codeDigest: Digest,
        needsRebuild: Type.Boolean(),
      }),
    ),
    profiles: Type.Record(EnvironmentName, Digest, { additionalProperties: false }),
    parent: Type.Union([CandidateRef, Type.Null()]),
    reason: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
  },
  { title: 'ReleaseCandidate', description: 'Immutable and addressed by the digest of its canonical JSON' },
);
export type ReleaseCandidate = Static<typeof ReleaseCandidate>;

export const SignatureEnvelope = closed(
  {
    payloadType: Type.Literal('application/vnd.kepler.release-candidate+json'),
    payload: Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' }),
    signatures: Type.Array(closed({ keyid: Type.String({ pattern: '^[0-9a-f]{64}$' }), sig: Type.String({ minLength: 1 }) }), { minItems: 1 }),
  },
  { title: 'DSSE envelope', description: 'Dead Simple Signing Envelope over the canonical candidate manifest, Ed25519' },
);
export type SignatureEnvelope = Static<typeof SignatureEnvelope>;

// ── DeploymentProfile ───────────────────────────────────────────────────────

const RoleSpec = closed({
  instances: Type.Integer({ minimum: 0, maximum: 256 }),
  /** processors and projections only: each partition is one process. */
  partitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
});

/** PEM files of a TLS client: the CA to trust, and a client certificate and key where the server asks for one. */
const TlsFiles = closed({ ca: Type.Optional(FilePath), cert: Type.Optional(FilePath), key: Type.Optional(FilePath) });

/** What stores/config.ts reads for a PostgreSQL store (ignored by the other servers). */
const postgresSettings = {
  /** Connections per pool (MongoDB: the driver's pool); each process and worker thread has its own. */
  poolSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  statementTimeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
  lockTimeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
  connectTimeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
  /** false: a process refuses an out-of-date schema instead of migrating it (`kepler migrate` does). */
  migrate: Type.Optional(Type.Boolean()),
};

const JwsAlgorithm = Type.Unsafe<(typeof DEFAULT_ALGORITHMS)[number]>({ type: 'string', enum: [...DEFAULT_ALGORITHMS] });
const LogLevel = Type.Unsafe<'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'>({ type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] });

// New sections and fields are optional: candidates cut before them froze profiles without them, and a
// rollback to such a candidate must still read its profile.
const profileProperties = {
  /** Where the embedded stores live (when no store URL is given). */
  dataDir: Type.String({ minLength: 1 }),
  eventStore: closed({ url: Type.Optional(ServerUrl), tls: Type.Optional(TlsFiles), ...postgresSettings }),
  readStore: closed({ url: Type.Optional(ServerUrl), database: Type.Optional(Type.String({ minLength: 1 })), tls: Type.Optional(TlsFiles), ...postgresSettings }),
  broker: closed({
    url: Type.Optional(ServerUrl),
    prefix: Type.String({ pattern: '^[a-z][a-z0-9_.-]*$' }),
    /** RabbitMQ's management API (the topology role, /status); the AMQP host on port 15672 when absent. */
    managementUrl: Type.Optional(ServerUrl),
    /** How often the topology role looks for drift. */
    topologyIntervalMs: Type.Optional(Type.Integer({ minimum: 100 })),
    tls: Type.Optional(TlsFiles),
  }),
  http: closed({
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** HTTPS with these PEM files; plain HTTP when absent. */
    tls: Type.Optional(closed({ cert: FilePath, key: FilePath })),
    /** Requests per principal per window; max 0 turns the limit off; absent: 600 a minute with authentication on. */
    rateLimit: Type.Optional(closed({ max: Type.Integer({ minimum: 0 }), windowMs: Type.Optional(Type.Integer({ minimum: 1 })) })),
    /** Origins CORS allows; absent: CORS off. */
    corsOrigins: Type.Optional(Type.Array(Type.String({ pattern: '^https?://[^\\s/]+$' }), { uniqueItems: true })),
  }),
  /**
   * Bearer tokens of an OpenID Connect issuer; absent: authentication off, which a process refuses
   * beyond loopback unless /insecure says so (checked when the profile is validated, too).
   */
  auth: Type.Optional(
    closed({
      issuer: HttpUrl,
      audience: Type.String({ minLength: 1 }),
      algorithms: Type.Optional(Type.Array(JwsAlgorithm, { minItems: 1, uniqueItems: true })),
      clockSkewSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 600 })),
      /** The claim listing a principal's accounts; "" turns entitlements off (a merge patch cannot set null). */
      entitlementsClaim: Type.Optional(Type.String()),
      /** Served without a token; absent: /health/live, /health/ready, /metrics. */
      publicPaths: Type.Optional(Type.Array(Type.Union(DEFAULT_PUBLIC_PATHS.map((path) => Type.Literal(path))), { uniqueItems: true })),
      jwksCooldownMs: Type.Optional(Type.Integer({ minimum: 0 })),
      jwksCacheMaxAgeMs: Type.Optional(Type.Integer({ minimum: 0 })),
    }),
  ),
  /** Authentication off beyond loopback, knowingly (`serve --insecure`). Only meaningful without /auth. */
  insecure: Type.Optional(Type.Boolean()),
  /** One slot runs in place; two are blue/green. */
  slots: Type.Array(SlotName, { minItems: 1, maxItems: 2, uniqueItems: true }),
  /** The gateway role: where each slot's HTTP API answers. */
  gateway: Type.Optional(closed({ upstreams: closed({ blue: Type.Optional(ServerUrl), green: Type.Optional(ServerUrl) }) })),
  roles: closed({
    ingestion: RoleSpec,
    processors: RoleSpec,
    projections: RoleSpec,
    'command-api': RoleSpec,
    'query-api': RoleSpec,
    publisher: RoleSpec,
    /** Shared by both slots; stateless, any number. */
    gateway: Type.Optional(RoleSpec),
    /** Shared by both slots; any number, as reconcilers converge. */
    topology: Type.Optional(RoleSpec),
  }),
  limits: closed({
    memoryMb: Type.Integer({ minimum: 64 }),
    cpuMhz: Type.Integer({ minimum: 100 }),
    readYourWritesTimeoutMs: Type.Integer({ minimum: 0 }),
    /** Trade states each processor keeps (KEPLER_PROCESSOR_CACHE); absent: each processor's own default, sized to its stream. */
    processorCache: Type.Optional(Type.Integer({ minimum: 0 })),
    rebuildDocuments: Type.Integer({ minimum: 1 }),
    /** Documents a live projection behind the head holds across batches before writing them (KEPLER_CATCHUP_DOCUMENTS); absent: the platform's default. */
    catchUpDocuments: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Longest a live projection behind the head holds what it projected unwritten (KEPLER_CATCHUP_STALENESS_MS); absent: the platform's default. */
    catchUpStalenessMs: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Events this process's processors must be behind the head for a live projection to hold at the head too (KEPLER_CATCHUP_HEAD_GAP; 0: never); absent: the platform's default. */
    catchUpHeadGap: Type.Optional(Type.Integer({ minimum: 0 })),
    /** GET /health/ready fails once a follower's oldest unhandled event is older than this (default 120). */
    readyMaxGapSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    /** How long opening a store waits for its server (default 30 s). */
    storeWaitMs: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
  features: closed({ projectionsThread: Type.Boolean(), tracing: Type.Boolean() }),
  telemetry: Type.Optional(
    closed({
      logLevel: Type.Optional(LogLevel),
      /** OTLP/HTTP collector (OTEL_EXPORTER_OTLP_ENDPOINT): traces go there when /features/tracing is on. */
      otlpEndpoint: Type.Optional(HttpUrl),
      /** Push metrics over OTLP as well as serving /metrics (OTEL_METRICS_EXPORTER=otlp). */
      pushMetrics: Type.Optional(Type.Boolean()),
      /** Ship logs to Splunk HEC; the token is a ${NAME} reference. */
      splunkHec: Type.Optional(
        closed({
          url: HttpUrl,
          token: Type.String({ minLength: 1 }),
          index: Type.Optional(Type.String({ minLength: 1 })),
          source: Type.Optional(Type.String({ minLength: 1 })),
          sourcetype: Type.Optional(Type.String({ minLength: 1 })),
        }),
      ),
    }),
  ),
  /** Names of the variables that hold secrets, referenced as ${NAME} in URLs and tokens. Values never appear in a profile. */
  secrets: Type.Array(SecretName, { uniqueItems: true }),
};

export const DeploymentProfile = closed(profileProperties, {
  title: 'DeploymentProfile',
  description: 'The base profile; each environment applies an RFC 7396 merge patch to it',
});
export type DeploymentProfile = Static<typeof DeploymentProfile>;

export const RenderedProfile = closed(
  { schema: Type.Literal('kepler.deployment-profile/v1'), environment: EnvironmentName, ...profileProperties },
  { title: 'RenderedProfile', description: 'One environment’s profile after its merge patch; hashed as canonical JSON' },
);
export type RenderedProfile = Static<typeof RenderedProfile>;

// ── Pipeline ────────────────────────────────────────────────────────────────

export const Window = closed({
  kind: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
  name: Type.Optional(Type.String()),
  /** RFC 5545 RRULE, without DTSTART: FREQ=WEEKLY;BYDAY=MO,TU,WE,TH */
  rrule: Type.String({ pattern: '^FREQ=[A-Z]+(;[A-Z]+=[A-Z0-9,+-]+)*$' }),
  /** Local wall-clock time of the first occurrence in timeZone. */
  start: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2})?$' }),
  timeZone: Type.String({ minLength: 1 }),
  duration: Duration,
});
export type Window = Static<typeof Window>;

export const GateConfig = tagged(
  'gate',
  [
    closed({ gate: Type.Literal('upstream') }),
    closed({ gate: Type.Literal('soak'), duration: Duration }),
    closed({ gate: Type.Literal('windows'), windows: Type.Array(Window, { minItems: 1 }) }),
    closed({ gate: Type.Literal('approvals'), required: Type.Integer({ minimum: 1 }) }),
    closed({ gate: Type.Literal('integrity') }),
    closed({
      gate: Type.Literal('regression'),
      /** Kepler config files of PROD and of UAT running the candidate, relative to the pipeline repository. */
      prod: Type.String({ minLength: 1 }),
      uat: Type.String({ minLength: 1 }),
      failOn: Type.Optional(Type.Union([Type.Literal('new'), Type.Literal('any')])),
      known: Type.Optional(Type.String({ minLength: 1 })),
      reconcilers: Type.Optional(Type.String({ minLength: 1 })),
    }),
    closed({
      gate: Type.Literal('replay'),
      /** Kepler config file of the environment whose events are sampled. */
      source: Type.String({ minLength: 1 }),
      sample: Type.Optional(Type.Integer({ minimum: 1 })),
    }),
  ],
  { title: 'Gate' },
);
export type GateConfig = Static<typeof GateConfig>;

export const EnvironmentDefinition = closed({
  name: EnvironmentName,
  /** A candidate may skip an optional environment on its way through the pipeline. */
  optional: Type.Optional(Type.Boolean()),
  gates: Type.Array(GateConfig),
});
export type EnvironmentDefinition = Static<typeof EnvironmentDefinition>;

export const Pipeline = closed(
  {
    $schema: Type.Optional(Type.String()),
    schema: Type.Literal('kepler.pipeline/v1'),
    name: Type.String({ minLength: 1 }),
    /** The npm package that is the artifact. */
    package: PackageName,
    /** The npm registry artifacts go to; null keeps them in the repository's .kepler/artifacts. */
    registry: Type.Union([HttpUrl, Type.Null()]),
    /** The environment whose candidate the `latest` dist-tag follows. */
    latestFollows: Type.Optional(EnvironmentName),
    trustedKeys: Type.Array(closed({ keyid: Type.String({ pattern: '^[0-9a-f]{64}$' }), publicKey: Type.String({ minLength: 1 }), owner: Type.String() }), {
      minItems: 1,
    }),
    phases: Type.Array(closed({ name: Type.String({ minLength: 1 }), environments: Type.Array(EnvironmentDefinition, { minItems: 1 }) }), { minItems: 1 }),
    hotfix: closed({ approvals: Type.Integer({ minimum: 1 }) }),
  },
  { title: 'Pipeline' },
);
export type Pipeline = Static<typeof Pipeline>;

// ── Desired state of an environment (environments/NAME.json) ────────────────

const SlotContent = closed({ candidate: CandidateRef, version: CalVerId, profileDigest: Digest, promotion: Type.String({ minLength: 1 }) });
export const DesiredState = closed(
  {
    schema: Type.Literal('kepler.desired-state/v1'),
    environment: EnvironmentName,
    /** What each slot should run; a slot never deployed to is absent. */
    slots: Type.Object({ blue: Type.Optional(SlotContent), green: Type.Optional(SlotContent) }, { additionalProperties: false }),
    /** The slot that takes traffic. */
    live: SlotName,
  },
  { title: 'DesiredState' },
);
export type DesiredState = Static<typeof DesiredState>;

// ── Promotion events ────────────────────────────────────────────────────────

export const GATES = ['upstream', 'soak', 'windows', 'approvals', 'integrity', 'regression', 'replay', 'veto', 'pin'] as const;
export type GateName = (typeof GATES)[number];
export const GateName = Type.Unsafe<GateName>({ type: 'string', enum: [...GATES] });
export const Verdict = Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('pending')]);
const Kind = Type.Union([Type.Literal('promotion'), Type.Literal('hotfix'), Type.Literal('rollback')]);
const onCandidate = { environment: EnvironmentName, candidate: CandidateRef, at: Timestamp };

export const PromotionEvent = tagged(
  'type',
  [
    closed({
      type: Type.Literal('PromotionRequested'),
      ...onCandidate,
      attempt: Type.Integer({ minimum: 1 }),
      kind: Kind,
      slot: SlotName,
      reason: Type.Union([Type.String(), Type.Null()]),
      replacing: Type.Union([CandidateRef, Type.Null()]),
      requestedBy: ActorSchema,
    }),
    closed({
      type: Type.Literal('GateEvaluated'),
      ...onCandidate,
      attempt: Type.Integer({ minimum: 1 }),
      gate: GateName,
      verdict: Verdict,
      reason: Type.String(),
      /** Set when a hotfix, a rollback or an approved override decided the gate instead of its rule. */
      waived: Type.Union([Type.String(), Type.Null()]),
      evidenceDigest: Type.Union([Digest, Type.Null()]),
      evidence: Type.Unknown(),
    }),
    closed({
      type: Type.Literal('PromotionApproved'),
      ...onCandidate,
      approver: ActorSchema,
      /** Gates this approval allows to be overridden (windows: a freeze or a closed window). */
      overrides: Type.Array(Type.Literal('windows')),
      reason: Type.Union([Type.String(), Type.Null()]),
    }),
    closed({ type: Type.Literal('PromotionApplied'), ...onCandidate, attempt: Type.Integer({ minimum: 1 }), commit: Commit, tag: Type.String(), slot: SlotName }),
    closed({ type: Type.Literal('SlotSwitched'), ...onCandidate, from: Type.Union([SlotName, Type.Null()]), to: SlotName, commit: Commit }),
    closed({ type: Type.Literal('PromotionVerified'), ...onCandidate, by: ActorSchema, evidence: Type.Union([Type.String(), Type.Null()]) }),
    closed({ type: Type.Literal('PromotionSoaked'), ...onCandidate, soakedMs: Type.Integer({ minimum: 0 }) }),
    closed({ type: Type.Literal('PromotionRolledBack'), ...onCandidate, to: CandidateRef, reason: Type.String() }),
    /** Another promotion took the slot this candidate ran in. */
    closed({ type: Type.Literal('PromotionReplaced'), ...onCandidate, by: CandidateRef, slot: SlotName }),
    closed({ type: Type.Literal('PromotionVetoed'), ...onCandidate, by: ActorSchema, reason: Type.String({ minLength: 1 }) }),
    closed({ type: Type.Literal('VetoLifted'), ...onCandidate, by: ActorSchema, reason: Type.String({ minLength: 1 }) }),
  ],
  { title: 'PromotionEvent' },
);
export type PromotionEvent = Static<typeof PromotionEvent>;

const onEnvironment = { environment: EnvironmentName, by: ActorSchema, at: Timestamp };
export const EnvironmentEvent = tagged(
  'type',
  [
    closed({ type: Type.Literal('EnvironmentFrozen'), ...onEnvironment, until: Type.Union([Timestamp, Type.Null()]), reason: Type.String({ minLength: 1 }) }),
    closed({ type: Type.Literal('EnvironmentUnfrozen'), ...onEnvironment, reason: Type.Union([Type.String(), Type.Null()]) }),
    closed({ type: Type.Literal('EnvironmentPinned'), ...onEnvironment, candidate: CandidateRef, reason: Type.String({ minLength: 1 }) }),
    closed({ type: Type.Literal('EnvironmentUnpinned'), ...onEnvironment, reason: Type.Union([Type.String(), Type.Null()]) }),
  ],
  { title: 'EnvironmentEvent' },
);
export type EnvironmentEvent = Static<typeof EnvironmentEvent>;

export const CandidateEvent = tagged(
  'type',
  [
    closed({
      type: Type.Literal('CandidateCut'),
      candidate: CandidateRef,
      version: CalVerId,
      parent: Type.Union([CandidateRef, Type.Null()]),
      reason: Type.Union([Type.String(), Type.Null()]),
      by: ActorSchema,
      at: Timestamp,
    }),
  ],
  { title: 'CandidateEvent' },
);
export type CandidateEvent = Static<typeof CandidateEvent>;

/** The schemas written to releases/schemas/ as JSON Schema files. */
export const EXPORTED_SCHEMAS: Record<string, TSchema> = {
  calver: CalVerId,
  'release-candidate': ReleaseCandidate,
  'signature-envelope': SignatureEnvelope,
  'deployment-profile': DeploymentProfile,
  'rendered-profile': RenderedProfile,
  pipeline: Pipeline,
  'desired-state': DesiredState,
  'promotion-event': PromotionEvent,
  'environment-event': EnvironmentEvent,
  'candidate-event': CandidateEvent,
};
