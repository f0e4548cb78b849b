// The command routes' headers (Idempotency-Key, If-Match) checked against the limits CommandHeaders
// declares, by a function of their own instead of the server's JSON-schema validator: the same
// answer (fastify calls it where it called the compiled schema, and an error names the header as
// Ajv names it), without Ajv's general machinery on every command for two optional strings.
import type { FastifySchemaCompiler } from 'fastify';
import { CommandHeaders } from './schemas.js';

/** An error as Ajv reports one: what fastify hands the server's error handler (query-api/problems.ts). */
interface HeaderError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message: string;
}

type Validator = ((headers: Record<string, unknown> | null) => boolean) & { errors: HeaderError[] | null };

const LIMITS = Object.entries(CommandHeaders.properties).map(([name, schema]) => ({ name, minLength: schema.minLength ?? 0, maxLength: schema.maxLength ?? Infinity }));

/** Characters as JSON Schema counts them (code points: a surrogate pair is one), as Ajv's ucs2length does. */
function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    count++;
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
  }
  return count;
}

function errorOf(name: string, value: unknown, minLength: number, maxLength: number): HeaderError | null {
  const at = { instancePath: `/${name}`, schemaPath: `#/properties/${name}` };
  if (typeof value !== 'string') return { ...at, schemaPath: `${at.schemaPath}/type`, keyword: 'type', params: { type: 'string' }, message: 'must be string' };
  // Code points never outnumber UTF-16 units, nor fall below half of them: most values need no count.
  const length = value.length <= maxLength && value.length >= 2 * minLength ? value.length : codePoints(value);
  if (length > maxLength) return { ...at, schemaPath: `${at.schemaPath}/maxLength`, keyword: 'maxLength', params: { limit: maxLength }, message: `must NOT have more than ${maxLength} characters` };
  if (length < minLength) return { ...at, schemaPath: `${at.schemaPath}/minLength`, keyword: 'minLength', params: { limit: minLength }, message: `must NOT have fewer than ${minLength} characters` };
  return null;
}

/** CommandHeaders as a fastify validator: true when every header present keeps its limits, else false with each error. */
export const validateCommandHeaders: Validator = Object.assign(
  (headers: Record<string, unknown> | null): boolean => {
    let errors: HeaderError[] | null = null;
    for (const { name, minLength, maxLength } of LIMITS) {
      const value = headers?.[name];
      if (value === undefined) continue;
      const error = errorOf(name, value, minLength, maxLength);
      if (error) (errors ??= []).push(error);
    }
    validateCommandHeaders.errors = errors;
    return errors === null;
  },
  { errors: null },
);

/**
 * A command route's validator compiler: the server's for its path, query and body, validateCommandHeaders
 * for its headers (the schema stays in the route, so the OpenAPI document still shows them). Undefined
 * when the server has no compiler of its own, so that fastify's default applies to every part.
 */
export function commandValidatorCompiler(server: FastifySchemaCompiler<unknown> | undefined): FastifySchemaCompiler<unknown> | undefined {
  if (!server) return undefined;
  return (route) => (route.httpPart === 'headers' ? validateCommandHeaders : server(route));
}
