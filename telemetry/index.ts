// Telemetry: metrics, platform-state figures, health, structured logs shipped to
// Splunk HEC, and traces. `app/` wires it; the rest of Kepler calls these.
export { serviceIdentity, logBaseFields, resourceAttributes, type ServiceIdentity } from './identity.js';
export { startTelemetry, stopTelemetry, telemetryConfigured, tracingEnabled, collectThreadMetrics, type TelemetryStatus } from './sdk.js';
export { addMetricSource, prometheusExposition, prometheusName, PROMETHEUS_CONTENT_TYPE } from './prometheus.js';
export { BookingMetrics, CommandMetrics, FollowerMetrics, LAG_BUCKETS, counter, secondsHistogram, secondsSince, subscriptionAttributes } from './instruments.js';
export { countDuplicates, observePlatformState, type FeedRecordFigure, type PlatformStateSource } from './platform-state.js';
export { followerGaps, followersAtHead, type FollowerGap, type FollowerPosition } from './followers.js';
export { observeReadiness, probe, readiness, type Readiness, type ReadinessCheck, type ReadinessInput } from './health.js';
export { HecShipper, hecOptionsFromEnv, logShippers, type HecOptions, type HecStats } from './hec.js';
export { closeLogShipping, createKeplerLogger, eventLogFields, traceFields, type EventLogFields, type KeplerLogger } from './logging.js';
export { InstrumentedEventStore } from './instrumented-event-store.js';
export { instrumentHttp, registerOperationalRoutes, OPERATIONAL_PATHS, type OperationalRoutes } from './http.js';
export {
  contextOf,
  failed,
  inSpan,
  isTraceparent,
  rabbitMqAttributes,
  startBatchSpan,
  startChildOf,
  startChildSpan,
  startEventSpan,
  startRootSpan,
  traceparentOf,
  withinBatch,
  withSpan,
  SpanKind,
  type Span,
} from './tracing.js';
