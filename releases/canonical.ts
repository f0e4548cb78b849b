// Canonical JSON (RFC 8785, JCS) and the digests computed over it: two
// documents with the same content have the same digest whatever their key
// order or number spelling.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('cannot canonicalise a value that has no JSON form');
  return text;
}

/** sha256:HEX of the value's canonical JSON. */
export function digestOf(value: unknown): string {
  return sha256Digest(canonicalJson(value));
}

export function sha256Digest(bytes: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** npm's Subresource Integrity of a tarball's bytes. */
export function sha512Integrity(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}
