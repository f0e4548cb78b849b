// The command headers' own validator answers what the server's compiled schema answered: the same
// verdict and the same errors, for any text, lone surrogates and characters beyond the BMP included.
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateCommandHeaders } from './command-headers.js';
import { CommandHeaders } from './schemas.js';

// As the server compiles a header schema (query-api/server.ts, validatorCompiler).
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, removeAdditional: true, coerceTypes: 'array' });
const schema = ajv.compile(CommandHeaders);

function verdicts(headers: Record<string, unknown>) {
  const ours = validateCommandHeaders(headers);
  const theirs = schema({ ...headers });
  const shape = (errors: ReadonlyArray<{ instancePath: string; keyword: string; params: object; message?: string }> | null | undefined) =>
    (errors ?? []).map(({ instancePath, keyword, params, message }) => ({ instancePath, keyword, params, message }));
  return { ours: { valid: ours, errors: shape(validateCommandHeaders.errors) }, theirs: { valid: theirs, errors: shape(schema.errors) } };
}

const text = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('a', '\u{1F600}', '\uD800', '\uDC00', 'é'), maxLength: 600 }),
  fc.constantFrom('', 'k'.repeat(255), 'k'.repeat(256), '\u{1F600}'.repeat(255), '\u{1F600}'.repeat(256), 'x'.repeat(64), 'x'.repeat(65)),
);

describe('validateCommandHeaders', () => {
  it('answers as the compiled CommandHeaders schema does', () => {
    fc.assert(
      fc.property(fc.record({ 'idempotency-key': text, 'if-match': text, other: text }, { requiredKeys: [] }), (headers) => {
        const { ours, theirs } = verdicts(headers);
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 2000 },
    );
  });

  it('names both headers when both are wrong, in the schema’s order', () => {
    const { ours, theirs } = verdicts({ 'if-match': 'x'.repeat(65), 'idempotency-key': '' });
    expect(ours).toEqual(theirs);
    expect(ours.errors.map((e) => e.instancePath)).toEqual(['/idempotency-key', '/if-match']);
  });
});
