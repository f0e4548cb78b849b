import type { Logger } from 'pino';
import { redactCredentials, REDACT_PATHS } from '../authentication/index.js';
import { createKeplerLogger, serviceIdentity } from '../telemetry/index.js';
import { packageVersion } from './package-root.js';

/**
 * Structured JSON logs on stderr, so stdout stays free for command output such as
 * `ingest --json`; shipped to Splunk HEC as well when KEPLER_SPLUNK_HEC_URL is set.
 * Every line says which service, version, environment, slot and roles wrote it.
 * No secret reaches a line, on stderr or in Splunk: tokens and Authorization headers
 * are redacted by path, and a password inside any URL (AMQP, MongoDB, EventStoreDB,
 * PostgreSQL), wherever it appears, by the last step before the line is written.
 */
export function createLogger(name = 'kepler', who: { roles?: readonly string[]; slot?: string } = {}): Logger {
  const roles = who.roles ?? [name.replace(/^kepler-?/, '') || 'kepler'];
  const identity = serviceIdentity({ version: packageVersion(), roles, ...(who.slot !== undefined && { slot: who.slot }) });
  return createKeplerLogger(name, identity, { redact: REDACT_PATHS, hooks: { streamWrite: redactCredentials } }).logger;
}
