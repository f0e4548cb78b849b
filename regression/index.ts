// Regression: PROD against UAT, per correlation ID, with developer-written reconcilers.
//
// Pure core: reconciler.ts (the developer API), diff.ts, signature.ts, verdict.ts.
// Edges: store.ts (SQLite run state), engine.ts (follows event stores, workers),
// report/ (HTML, JSON, JUnit), api.ts (HTTP), ledger.ts (known differences).

// The developer API.
export {
  defineReconciler,
  ignorePaths,
  mapPaths,
  eventPayloads,
  sortArrayBy,
  keyEventsBy,
  stripIds,
  stripTimestamps,
  stripPositions,
  exact,
  decimalTolerance,
  rule,
  DEFAULT_ID_FIELDS,
  DEFAULT_POSITION_FIELDS,
  DEFAULT_TIMESTAMP_FIELDS,
  type CorrelatedEvent,
  type Correlation,
  type Judgement,
  type NormaliseStep,
  type Outcome,
  type OutputEvent,
  type ReadModelSelection,
  type Reconciler,
  type ReconcilerDefinition,
  type Selection,
  type SideOutput,
} from './reconciler.js';
export { kit, type ReconcilerKit } from './kit.js';
export { bookingsReconciler, positionsReconciler, tradesReconciler, positionCorrelationId, splitPositionCorrelationId } from './reconcilers/index.js';

// The pure core.
export { diff, EXACT, PRESENCE, type ArrayKey, type CompareRule, type Difference, type DifferenceKind, type DiffOptions } from './diff.js';
export { classifySignature, groupSignatures, parseSignature, signatureOf, type SignatureStatus, type SignatureSummary } from './signature.js';
export { AGREEING, dueAt, isDue, judged, newPair, onOutput, verdictOf, VERDICTS, type PairTiming, type SideName, type Timing, type Verdict } from './verdict.js';
export { parseDecimal, withinTolerance, formatDecimal } from './decimal.js';
export { compilePattern, formatPath, matchesPath, stripPath, type Path, type Pattern } from './path.js';
export { fnv1a, partitionOf, addToChecksum, formatChecksum, type SetChecksum } from './hash.js';
export type { Json, JsonObject } from './json.js';

// Running, storing, reporting.
export { runRegression, rejudgeRun, createRouter, DEFAULT_PARTITIONS, DEFAULT_SHARDS, DEFAULT_TIMING, type Progress, type RegressionOptions, type RunOutcome, type PositionRange } from './engine.js';
export { configFromFile, type EnvironmentInput } from './environment.js';
export { loadReconcilers, loadReconcilerModules, reconcilersOf, BUILTIN_RECONCILERS_MODULE, type LoadedReconcilers, type LoadOptions } from './loader.js';
export { RunStore, ShardStore, type RunMeta } from './store.js';
export { accept, acceptedAt, loadLedger, revoke, saveLedger, type AcceptedSignature, type Ledger } from './ledger.js';
export { buildReport, evaluateGate, renderHtml, renderJunit, writeReports, FAIL_ON, type FailOn, type ReportModel, type ReportOptions } from './report/index.js';
export { registerRegressionApi, listRuns, type RegressionApiOptions } from './api.js';
