import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { generateSigningKey, pae, signPayload, verifyEnvelope } from './signing.js';

describe('DSSE envelopes with Ed25519', () => {
  const key = generateSigningKey();
  const trusted = [{ keyid: key.keyid, publicKey: key.publicKeyPem, owner: 'release-team' }];
  const payload = canonicalJson({ id: '2026.1205.0', b: [1, 2] });

  it('encodes the payload type and length before signing (DSSE v1 PAE)', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('verifies offline with a trusted public key and gives back the payload', () => {
    const envelope = signPayload(payload, key.privateKeyPem);
    expect(verifyEnvelope(envelope, trusted)).toEqual({ ok: true, keyid: key.keyid, owner: 'release-team', payload });
  });

  it('fails for a changed payload, an untrusted key, a changed payload type', () => {
    const envelope = signPayload(payload, key.privateKeyPem);
    const tampered = { ...envelope, payload: Buffer.from(payload.replace('2026.1205.0', '2026.1205.1')).toString('base64') };
    expect(verifyEnvelope(tampered, trusted)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not verify/) });
    const other = generateSigningKey();
    expect(verifyEnvelope(signPayload(payload, other.privateKeyPem), trusted)).toMatchObject({ ok: false, reason: expect.stringMatching(/not trusted/) });
    expect(verifyEnvelope({ ...envelope, payloadType: 'application/json' } as never, trusted)).toMatchObject({ ok: false });
    // A trusted entry whose public key is not the key its id names is no trust at all.
    expect(verifyEnvelope(envelope, [{ ...trusted[0]!, publicKey: other.publicKeyPem }])).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match its public key/) });
  });
});
