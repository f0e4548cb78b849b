// Signing candidates: a DSSE envelope (Dead Simple Signing Envelope, the
// in-toto/Sigstore format) over the canonical manifest, with Ed25519 from
// node:crypto. Verification needs only the envelope and the trusted public
// keys, so it works offline.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { SignatureEnvelope } from './schemas.js';

export const PAYLOAD_TYPE = 'application/vnd.kepler.release-candidate+json';

export interface TrustedKey {
  keyid: string;
  publicKey: string;
  owner: string;
}

/** DSSE's pre-authentication encoding: what is actually signed, binding the payload to its type. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** sha256 of the key's SubjectPublicKeyInfo: names the key in envelopes and in the pipeline's trusted keys. */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function generateSigningKey(): { privateKeyPem: string; publicKeyPem: string; keyid: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyid: keyIdOf(publicKey),
  };
}

export function publicKeyOf(privateKeyPem: string): { publicKeyPem: string; keyid: string } {
  const publicKey = createPublicKey(createPrivateKey(privateKeyPem));
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), keyid: keyIdOf(publicKey) };
}

export function signPayload(payload: string, privateKeyPem: string): SignatureEnvelope {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`the signing key is ${key.asymmetricKeyType}, not Ed25519`);
  const body = Buffer.from(payload, 'utf8');
  const sig = sign(null, pae(PAYLOAD_TYPE, body), key);
  return { payloadType: PAYLOAD_TYPE, payload: body.toString('base64'), signatures: [{ keyid: keyIdOf(createPublicKey(key)), sig: sig.toString('base64') }] };
}

export type SignatureCheck = { ok: true; keyid: string; owner: string; payload: string } | { ok: false; reason: string };

/** Passes when one signature verifies with a trusted key; returns the payload it covers. */
export function verifyEnvelope(envelope: SignatureEnvelope, trusted: readonly TrustedKey[]): SignatureCheck {
  if (envelope.payloadType !== PAYLOAD_TYPE) return { ok: false, reason: `payload type ${envelope.payloadType} is not ${PAYLOAD_TYPE}` };
  const body = Buffer.from(envelope.payload, 'base64');
  const message = pae(envelope.payloadType, body);
  const reasons: string[] = [];
  for (const signature of envelope.signatures) {
    const key = trusted.find((k) => k.keyid === signature.keyid);
    if (!key) {
      reasons.push(`key ${signature.keyid.slice(0, 12)} is not trusted by the pipeline`);
      continue;
    }
    if (keyIdOf(key.publicKey) !== key.keyid) {
      reasons.push(`trusted key ${key.keyid.slice(0, 12)} does not match its public key`);
      continue;
    }
    if (verify(null, message, createPublicKey(key.publicKey), Buffer.from(signature.sig, 'base64'))) {
      return { ok: true, keyid: key.keyid, owner: key.owner, payload: body.toString('utf8') };
    }
    reasons.push(`the signature by ${key.keyid.slice(0, 12)} (${key.owner}) does not verify`);
  }
  return { ok: false, reason: reasons.join('; ') || 'no signatures' };
}
