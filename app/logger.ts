import { pino, type Logger } from 'pino';
import { redactCredentials, REDACT_PATHS } from '../authentication/index.js';

/**
 * Structured JSON logs on stderr, so stdout stays free for command output such as `ingest --json`.
 * No secret reaches a line: tokens and Authorization headers are redacted by path, and a
 * password inside any URL (AMQP, MongoDB, EventStoreDB), wherever it appears, by the last step.
 */
export function createLogger(name = 'kepler'): Logger {
  return pino(
    { name, level: process.env.KEPLER_LOG_LEVEL ?? 'info', redact: REDACT_PATHS, hooks: { streamWrite: redactCredentials } },
    pino.destination({ fd: 2, sync: false }),
  );
}
