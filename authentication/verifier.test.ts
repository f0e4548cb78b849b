// The token verifier against a real OpenID provider in the test process: keys from
// its discovery document, every claim checked, key rotation, and tampered tokens.
import { generateKeyPair } from 'jose';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, AUDIENCE, TestIdentityProvider } from '../tests/support/oidc.js';
import { DEFAULT_ALGORITHMS, type AuthConfig } from './config.js';
import { TokenVerifier, type Verification } from './verifier.js';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('TokenVerifier', () => {
  let idp: TestIdentityProvider;
  const config = (overrides: Partial<AuthConfig> = {}): AuthConfig => ({
    issuer: idp.issuer,
    audience: AUDIENCE,
    algorithms: DEFAULT_ALGORITHMS,
    clockSkewSeconds: 30,
    entitlementsClaim: 'kepler_accounts',
    jwksCooldownMs: 30_000,
    jwksCacheMaxAgeMs: 600_000,
    ...overrides,
  });
  const invalid = (verification: Verification) => {
    expect(verification.ok).toBe(false);
    expect(verification.ok === false && verification.kind).toBe('invalid');
    return verification as Extract<Verification, { kind: 'invalid' }>;
  };

  beforeAll(async () => {
    idp = await TestIdentityProvider.start([
      { id: 'capture-system', accounts: ['ACC-1', 'ACC-2'], scopes: ['trades:read', 'trades:write'] },
      { id: 'operations', accounts: ['*'], name: 'Operations Desk' },
      { id: 'no-claim' },
    ]);
  });
  afterAll(() => idp.stop());

  it('takes a client-credentials token of the issuer: subject, client, scopes and accounts', async () => {
    const verifier = new TokenVerifier(config());
    const verification = await verifier.verify(await idp.token('capture-system'));
    expect(verification.ok).toBe(true);
    if (!verification.ok) return;
    expect(verification.principal.actor).toEqual({ subject: 'capture-system', clientId: 'capture-system' });
    expect([...verification.principal.scopes].sort()).toEqual(['trades:read', 'trades:write']);
    expect(verification.principal.entitlements).toEqual({ kind: 'accounts', accounts: new Set(['ACC-1', 'ACC-2']) });
    expect(verifier.tokenEndpoint).toBe(`${idp.issuer}/token`);

    const operations = await verifier.verify(await idp.token('operations'));
    expect(operations.ok && operations.principal).toMatchObject({ actor: { subject: 'operations', name: 'Operations Desk' }, entitlements: { kind: 'all' } });
    // No entitlements claim: entitled to nothing, unless entitlements are off.
    const none = await verifier.verify(await idp.token('no-claim'));
    expect(none.ok && none.principal.entitlements).toEqual({ kind: 'accounts', accounts: new Set() });
    const off = await new TokenVerifier(config({ entitlementsClaim: null })).verify(await idp.token('no-claim'));
    expect(off.ok && off.principal.entitlements).toEqual({ kind: 'all' });
  });

  it('reads scopes from scope (space-separated) or scp (an array, or a string)', async () => {
    const verifier = new TokenVerifier(config());
    for (const claims of [{ scope: 'trades:read positions:read' }, { scope: undefined, scp: ['trades:read', 'positions:read'] }, { scope: undefined, scp: 'trades:read positions:read' }]) {
      const verification = await verifier.verify(await idp.forge(claims));
      expect(verification.ok && [...verification.principal.scopes].sort(), JSON.stringify(claims)).toEqual(['positions:read', 'trades:read']);
    }
  });

  it('refuses expired, not yet valid, foreign-audience and foreign-issuer tokens, within a clock skew', async () => {
    const verifier = new TokenVerifier(config({ clockSkewSeconds: 30 }));
    expect(invalid(await verifier.verify(await idp.forge({ exp: now() - 31 }))).expired).toBe(true);
    expect((await verifier.verify(await idp.forge({ exp: now() - 20 }))).ok).toBe(true);
    expect(invalid(await verifier.verify(await idp.forge({ nbf: now() + 60 }))).reason).toMatch(/nbf/);
    expect((await verifier.verify(await idp.forge({ nbf: now() + 20 }))).ok).toBe(true);
    expect(invalid(await verifier.verify(await idp.forge({ aud: 'https://another.api' }))).reason).toMatch(/aud/);
    expect(invalid(await verifier.verify(await idp.forge({ iss: 'https://evil.example' }))).reason).toMatch(/iss/);
    expect(invalid(await verifier.verify(await idp.forge({ exp: undefined }))).reason).toMatch(/exp/);
  });

  it('refuses alg none, HS256 keyed with the public key, and tokens signed by another key', async () => {
    const verifier = new TokenVerifier(config());
    const payload = { iss: idp.issuer, aud: AUDIENCE, sub: 'x', exp: now() + 300, scope: ALL_SCOPES.join(' ') };
    expect(invalid(await verifier.verify(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`)).reason).toMatch(/algorithm|malformed/);

    const jwks = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: Array<{ n: string }> };
    const { createHmac } = await import('node:crypto');
    const signingInput = `${b64({ alg: 'HS256', kid: idp.kid })}.${b64(payload)}`;
    const hs = createHmac('sha256', JSON.stringify(jwks.keys[0])).update(signingInput).digest('base64url');
    expect(invalid(await verifier.verify(`${signingInput}.${hs}`)).reason).toBe('algorithm not allowed');

    const other = await generateKeyPair('RS256', { extractable: true });
    expect(invalid(await verifier.verify(await idp.forge({}, { key: other.privateKey }))).reason).toBe('signature verification failed');
    expect(invalid(await verifier.verify(await idp.forge({}, { key: other.privateKey, kid: 'never-published' }))).reason).toBe('no key of the issuer matches');
  });

  it('follows a key rotation: a token under the new kid is taken once the keys are fetched again, one under the old kid is refused', async () => {
    const verifier = new TokenVerifier(config({ jwksCooldownMs: 200 }));
    const before = await idp.token('operations');
    expect((await verifier.verify(before)).ok).toBe(true);
    const fetches = idp.keySetFetches;
    await idp.rotate();
    const after = await idp.token('operations');
    // Within the cooldown the new kid is unknown; it is fetched as soon as the floor allows.
    const deadline = Date.now() + 10_000;
    let verification = await verifier.verify(after);
    while (!verification.ok && Date.now() < deadline) verification = await verifier.verify(after);
    expect(verification.ok).toBe(true);
    expect(idp.keySetFetches).toBe(fetches + 1);
    expect(invalid(await verifier.verify(before)).reason).toBe('no key of the issuer matches');
  });

  it('fetches the keys again at most once per cooldown, however many unknown kids arrive', async () => {
    const verifier = new TokenVerifier(config({ jwksCooldownMs: 60_000 }));
    expect((await verifier.verify(await idp.token('operations'))).ok).toBe(true);
    const fetches = idp.keySetFetches;
    const stranger = await generateKeyPair('RS256');
    for (let i = 0; i < 20; i++) invalid(await verifier.verify(await idp.forge({}, { key: stranger.privateKey, kid: `unknown-${i}` })));
    expect(idp.keySetFetches - fetches).toBeLessThanOrEqual(1);
  });

  it('says the issuer is unavailable, rather than the token invalid, when its keys cannot be had', async () => {
    const token = await idp.token('operations');
    idp.up = false;
    try {
      const verification = await new TokenVerifier(config()).verify(token);
      expect(verification).toMatchObject({ ok: false, kind: 'unavailable' });
    } finally {
      idp.up = true;
    }
  });

  it('refuses every tampered header, payload and signature', async () => {
    const verifier = new TokenVerifier(config());
    const token = await idp.token('operations');
    expect((await verifier.verify(token)).ok).toBe(true);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const decoded = { header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>, payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown> };
    const json = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }));
    const tampered = fc.oneof(
      // A claim or header parameter changed, added or removed: the signature no longer covers it.
      fc.tuple(fc.constantFrom('header', 'payload'), fc.oneof(fc.constantFrom(...Object.keys(decoded.header), ...Object.keys(decoded.payload)), fc.string({ minLength: 1, maxLength: 8 })), fc.option(json)).map(([part, name, value]) => {
        const changed = { ...decoded[part as 'header' | 'payload'] };
        if (value === null) delete changed[name];
        else changed[name] = value;
        if (JSON.stringify(changed) === JSON.stringify(decoded[part as 'header' | 'payload'])) changed[`${name}x`] = 1;
        return part === 'header' ? `${b64(changed)}.${payload}.${signature}` : `${header}.${b64(changed)}.${signature}`;
      }),
      // Bytes of any part flipped, cut or appended.
      fc.tuple(fc.nat(token.length - 1), fc.constantFrom('flip', 'cut', 'append'), fc.string({ minLength: 1, maxLength: 4 })).map(([at, how, extra]) => {
        if (how === 'cut') return token.slice(0, at) + token.slice(at + 1);
        if (how === 'append') return token.slice(0, at) + extra + token.slice(at);
        const c = token[at]!;
        return token.slice(0, at) + (c === 'A' ? 'B' : 'A') + token.slice(at + 1);
      }),
    ).filter((t) => t !== token);
    await fc.assert(
      fc.asyncProperty(tampered, async (forged) => {
        const verification = await verifier.verify(forged);
        expect(verification.ok).toBe(false);
        expect(verification.ok === false && verification.kind).toBe('invalid');
      }),
      { numRuns: 300 },
    );
  });
});
