import { pino, type Logger } from 'pino';

/** Structured JSON logs on stderr, so stdout stays free for command output such as `ingest --json`. */
export function createLogger(name = 'kepler'): Logger {
  return pino({ name, level: process.env.KEPLER_LOG_LEVEL ?? 'info' }, pino.destination({ fd: 2, sync: false }));
}
