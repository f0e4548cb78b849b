// The JSON Schema files of the release model, generated from the TypeBox
// declarations: releases/schemas/ holds them (a test keeps them current), and
// `kepler pipeline init` copies them into a new pipeline repository for editors.
import { EXPORTED_SCHEMAS } from './schemas.js';

export const SCHEMA_BASE = 'https://kepler.invalid/schemas/';

/** File name → text of each schema. */
export function jsonSchemaFiles(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(EXPORTED_SCHEMAS).map(([name, schema]) => [
      `${name}.schema.json`,
      `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', $id: `${SCHEMA_BASE}${name}.schema.json`, ...JSON.parse(JSON.stringify(schema)) }, null, 2)}\n`,
    ]),
  );
}
