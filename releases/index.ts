// Releasing Kepler: CalVer release candidates, deployment profiles, a GitOps
// pipeline of environments with gates, promotions recorded in Kepler's own
// event store.
//
// Pure core: calver.ts, schemas.ts, profiles.ts, candidates.ts, pipeline.ts,
// windows.ts, gates.ts, promotion.ts and environment.ts (the aggregates),
// placement.ts, commits.ts, renderers.ts. Edges: git.ts, registry.ts,
// artifact.ts, repository.ts, journal.ts (the event store), replay.ts, init.ts,
// and the use cases over a shared context.ts: cutting.ts, verification.ts,
// comparison.ts, gating.ts, promoting.ts, after-push.ts, reconciliation.ts,
// cut-over.ts, controls.ts, status.ts; service.ts is their façade.
export { compareCalVer, dayPart, formatCalVer, isCalVer, nextCalVer, parseCalVer, releaseOf, CalVerError, CALVER_PATTERN, type CalVer, type CutKind } from './calver.js';
export * from './schemas.js';
export { validate, ValidationError } from './validate.js';
export { canonicalJson, digestOf, sha256Digest, sha512Integrity } from './canonical.js';
export { generateSigningKey, keyIdOf, pae, publicKeyOf, signPayload, verifyEnvelope, PAYLOAD_TYPE, type TrustedKey } from './signing.js';
export {
  applyMergePatch,
  checkPartition,
  expandSecret,
  expandSecrets,
  loadProfileFile,
  processEnvironmentFromProfile,
  roleSpec,
  SECRET_FIELDS,
  SHARED_PROFILE_ROLES,
  SLOT_PROFILE_ROLES,
  readProfileSources,
  readRendered,
  renderAll,
  renderProfile,
  settingsFromProfile,
  PROFILE_SCHEMA,
  type ProfileSettings,
  type Rendered,
} from './profiles.js';
export { defaultBaseProfile, defaultPatches, defaultPipeline, environmentsOf, placeOf, readPipeline, upstreamOf, UnknownEnvironmentError } from './pipeline.js';
export { durationMs, occurrenceAt, parseDuration, windowState, type WindowState } from './windows.js';
export { approvalsGate, evaluateGates, overallVerdict, pinGate, soakGate, upstreamGate, vetoGate, windowsGate, type GateContext, type ProbeAnswer, type Probes } from './gates.js';
export { decide, evolve, initialPromotionState, statusOf, promotionStream, type GateResult, type PromotionCommand, type PromotionKind, type PromotionState, type Slot, type Verdict } from './promotion.js';
export { decideEnvironment, evolveEnvironment, initialEnvironmentState, type EnvironmentCommand, type EnvironmentState } from './environment.js';
export { foldHistory, Journal, promotionOf, RefusedError, type History, type LogEntry } from './journal.js';
export { buildCandidate, diffCandidates, refOf, type CandidateDiff } from './candidates.js';
export { Git, GitError } from './git.js';
export { NpmRegistry, RegistryError, nerfDart, type RegistryClient } from './registry.js';
export { extractTarball, inspectPackage, packStaged, runInPackage, stagePackage } from './artifact.js';
export { projectionCodeDigest } from './code-digest.js';
export { CandidateNotFoundError, PipelineRepository, type StoredCandidate } from './repository.js';
export { copySample, replayProjections, type ReplayKit } from './replay.js';
export { ReleaseService } from './service.js';
export type { RegressionRunner, ReleaseServiceOptions } from './context.js';
export { promotionTag } from './commits.js';
export { nextDesired } from './placement.js';
export type { PromotionOutcome } from './promoting.js';
export type { PipelineStatus } from './status.js';
export { initPipeline, DEFAULT_KEY_FILE, type InitOptions } from './init.js';
export { nomadJobId, renderNomadJob, renderSystemdUnits, NomadJobSpec, type Deployment, type NomadJob, type Part, type SystemdUnit } from './renderers.js';
export { jsonSchemaFiles } from './json-schemas.js';
