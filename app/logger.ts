import type { Logger } from 'pino';
import { createKeplerLogger, serviceIdentity } from '../telemetry/index.js';
import { packageVersion } from './package-root.js';

/**
 * Structured JSON logs on stderr, so stdout stays free for command output such as
 * `ingest --json`; shipped to Splunk HEC as well when KEPLER_SPLUNK_HEC_URL is set.
 * Every line says which service, version, environment, slot and roles wrote it.
 */
export function createLogger(name = 'kepler', who: { roles?: readonly string[]; slot?: string } = {}): Logger {
  const roles = who.roles ?? [name.replace(/^kepler-?/, '') || 'kepler'];
  return createKeplerLogger(name, serviceIdentity({ version: packageVersion(), roles, ...(who.slot !== undefined && { slot: who.slot }) })).logger;
}
