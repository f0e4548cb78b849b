import type { JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from './config.js';
import { principalOf, type Principal } from './principal.js';

/**
 * What a token turned out to be. `reason` is for the security log only: a client
 * is never told why a signature failed.
 */
export type Verification =
  | { ok: true; principal: Principal }
  | { ok: false; kind: 'invalid'; reason: string; expired: boolean }
  /** The issuer's keys could not be had: not the client's fault, so not a 401. */
  | { ok: false; kind: 'unavailable'; reason: string };

/**
 * jose is loaded when the first token is checked: every CLI command reads the
 * configuration, and only a server with an issuer needs it.
 */
type Jose = typeof import('jose');
let loaded: Promise<Jose> | null = null;
const jose = (): Promise<Jose> => (loaded ??= import('jose'));

/** The least time between two attempts at the discovery document after one failed. */
const DISCOVERY_RETRY_FLOOR_MS = 1000;
const FETCH_TIMEOUT_MS = 5000;

/**
 * Checks bearer tokens against an OpenID Connect issuer: its keys come from the
 * `jwks_uri` of its discovery document and are cached by jose, which fetches
 * them again when a token names a key it does not know (a rotation), at most
 * once per cooldown.
 */
export class TokenVerifier {
  private keys: JWTVerifyGetKey | null = null;
  private discovering: Promise<JWTVerifyGetKey> | null = null;
  private lastFailure = 0;
  /** The issuer's token endpoint, once its discovery document has been read: where clients get tokens. */
  tokenEndpoint: string | null = null;

  constructor(private readonly config: AuthConfig) {}

  /** Fetches the discovery document now, so that a misconfigured issuer shows at start-up. */
  async discover(): Promise<void> {
    await this.keySet();
  }

  async verify(token: string): Promise<Verification> {
    if (!isCanonicalCompactJws(token)) return { ok: false, kind: 'invalid', reason: 'malformed (not a canonical compact JWS)', expired: false };
    let keys: JWTVerifyGetKey;
    try {
      keys = await this.keySet();
    } catch (error) {
      return { ok: false, kind: 'unavailable', reason: `discovery: ${messageOf(error)}` };
    }
    const { errors, jwtVerify } = await jose();
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: [...this.config.algorithms],
        clockTolerance: this.config.clockSkewSeconds,
        requiredClaims: ['exp'],
      });
      return { ok: true, principal: principalOf(payload, this.config.entitlementsClaim) };
    } catch (error) {
      // Fetching the keys failed (fetch throws a TypeError), timed out or brought no key set: the issuer's fault.
      if (!(error instanceof errors.JOSEError) || error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
        return { ok: false, kind: 'unavailable', reason: `keys: ${messageOf(error)}` };
      }
      return { ok: false, kind: 'invalid', reason: reasonOf(errors, error), expired: error instanceof errors.JWTExpired };
    }
  }

  private keySet(): Promise<JWTVerifyGetKey> {
    if (this.keys) return Promise.resolve(this.keys);
    if (this.discovering) return this.discovering;
    if (Date.now() - this.lastFailure < DISCOVERY_RETRY_FLOOR_MS) return Promise.reject(new Error('the discovery document was unavailable a moment ago'));
    this.discovering = this.fetchKeySet().then(
      (keys) => {
        this.keys = keys;
        this.discovering = null;
        return keys;
      },
      (error: unknown) => {
        this.lastFailure = Date.now();
        this.discovering = null;
        throw error;
      },
    );
    return this.discovering;
  }

  private async fetchKeySet(): Promise<JWTVerifyGetKey> {
    const url = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown; token_endpoint?: unknown };
    // OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer it was fetched for.
    if (document.issuer !== this.config.issuer) throw new Error(`${url} names issuer ${String(document.issuer)}, not ${this.config.issuer}`);
    if (typeof document.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
    if (typeof document.token_endpoint === 'string') this.tokenEndpoint = document.token_endpoint;
    const { createRemoteJWKSet } = await jose();
    return createRemoteJWKSet(new URL(document.jwks_uri), {
      cooldownDuration: this.config.jwksCooldownMs,
      cacheMaxAge: this.config.jwksCacheMaxAgeMs,
      timeoutDuration: FETCH_TIMEOUT_MS,
    });
  }
}

/**
 * Three base64url parts, each exactly as its bytes encode: the decoder would let
 * whitespace or unused trailing bits through, and a token that differs from the
 * one issued in any character is not that token.
 */
function isCanonicalCompactJws(token: string): boolean {
  const parts = token.split('.');
  return parts.length === 3 && parts.every((part) => /^[A-Za-z0-9_-]*$/.test(part) && Buffer.from(part, 'base64url').toString('base64url') === part);
}

function reasonOf(errors: Jose['errors'], error: InstanceType<Jose['errors']['JOSEError']>): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} ${error.reason}`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'several keys of the issuer match';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  return `malformed (${error.code})`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
