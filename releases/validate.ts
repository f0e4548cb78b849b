// Validation against the release schemas, with errors that name the file and the field.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';

const ajv = new Ajv({ allErrors: true, strict: true, discriminator: true });
const compiled = new WeakMap<TSchema, ValidateFunction>();

export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly what: string,
    readonly errors: readonly string[],
  ) {
    super(`${what} is not valid:\n  ${errors.join('\n  ')}`);
  }
}

/** The value typed by its schema, or a ValidationError listing every problem (what: "pipeline.json", say). */
export function validate<S extends TSchema>(schema: S, value: unknown, what: string): Static<S> {
  let check = compiled.get(schema);
  if (!check) {
    check = ajv.compile(schema);
    compiled.set(schema, check);
  }
  if (check(value)) return value as Static<S>;
  throw new ValidationError(what, describe(check.errors ?? []));
}

function describe(errors: readonly ErrorObject[]): string[] {
  const lines = errors.map((e) => {
    const at = e.instancePath === '' ? '(top level)' : e.instancePath;
    if (e.keyword === 'additionalProperties') return `${at}: unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    if (e.keyword === 'required') return `${at}: missing "${(e.params as { missingProperty: string }).missingProperty}"`;
    if (e.keyword === 'const') return `${at}: must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    if (e.keyword === 'enum') return `${at}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    if (e.keyword === 'discriminator') {
      const { tag, tagValue } = e.params as { tag: string; tagValue: unknown };
      return `${at}: unknown ${tag} ${JSON.stringify(tagValue)}`;
    }
    return `${at}: ${e.message ?? e.keyword}`;
  });
  return [...new Set(lines)];
}
