import { createHash } from 'node:crypto';
import type { AnyProjection } from '../projections/index.js';

/** A projection's code as it would run: its functions' text, filter and indexes. A change here may change its documents. */
export function projectionCodeDigest(projection: AnyProjection): string {
  const text = JSON.stringify([projection.name, projection.indexes, projection.filter, projection.keysOf.toString(), projection.apply.toString()]);
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
