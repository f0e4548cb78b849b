// Secrets never reach a log line or a status document: bearer tokens and
// Authorization headers by pino's path redaction, passwords inside URLs
// (amqp://user:secret@host, mongodb://…, esdb://…) wherever they appear in text.

/** Pino `redact` paths: headers and token fields wherever Kepler or fastify log them. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  '*.authorization',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
  'client_secret',
  '*.client_secret',
  'password',
  '*.password',
];

/** What stands for a secret in text: the same mark `redactUrl` puts in a URL, so a line reads the same whichever redacted it. */
export const REDACTED = '***';

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"'\\]*:)[^\s@/"'\\]+@/gi;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/g;

/** The text with every `scheme://user:password@` password and every bearer token replaced. */
export function redactCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, `$1${REDACTED}@`).replace(BEARER, `$1${REDACTED}`);
}

/** A JSON-shaped value with every string in it passed through redactCredentials. */
export function redactDeep<T>(value: T): T {
  return JSON.parse(redactCredentials(JSON.stringify(value) ?? 'null'), (_key, v: unknown) => v) as T;
}
