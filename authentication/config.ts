/** How bearer tokens are checked. Null in KeplerConfig means authentication is off. */
export interface AuthConfig {
  /** The OpenID Connect issuer: its discovery document is `{issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** What `aud` must hold: the resource indicator Kepler's tokens are issued for. */
  audience: string;
  /** Signature algorithms accepted; asymmetric only. */
  algorithms: readonly string[];
  /** Tolerance on `exp` and `nbf`, for clocks that disagree a little. */
  clockSkewSeconds: number;
  /** The claim that lists the accounts a principal may see and act on; null turns entitlements off. */
  entitlementsClaim: string | null;
  /** The least time between two fetches of the issuer's keys when a token names a key it does not know. */
  jwksCooldownMs: number;
  /** How long the issuer's keys are used before they are fetched again. */
  jwksCacheMaxAgeMs: number;
}

export const DEFAULT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** Paths any caller may reach without a token: liveness, readiness and metrics. */
export const DEFAULT_PUBLIC_PATHS = ['/health/live', '/health/ready', '/metrics'] as const;

export const DEFAULT_ENTITLEMENTS_CLAIM = 'kepler_accounts';

/**
 * Public paths may only be the operational ones, and only ever for reading:
 * anything else made public would run commands with no principal, so with no
 * entitlements, no four eyes and nobody recorded.
 */
export function checkPublicPaths(paths: readonly string[]): readonly string[] {
  for (const path of paths) {
    if (!(DEFAULT_PUBLIC_PATHS as readonly string[]).includes(path)) {
      throw new Error(`auth.publicPaths: ${path} cannot be public; only ${DEFAULT_PUBLIC_PATHS.join(', ')} can (each may be left out)`);
    }
  }
  return paths;
}

/**
 * Only asymmetric algorithms: `none` would accept an unsigned token, and an HS*
 * algorithm checked against a public key lets anyone who has the key sign.
 */
export function checkAlgorithms(algorithms: readonly string[]): readonly string[] {
  if (algorithms.length === 0) throw new Error('auth.algorithms must name at least one algorithm');
  for (const algorithm of algorithms) {
    if (!(DEFAULT_ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw new Error(`auth.algorithms: ${algorithm} is not allowed; choose among ${DEFAULT_ALGORITHMS.join(', ')} (never none or HS*)`);
    }
  }
  return algorithms;
}

/** The issuer as a URL Kepler will fetch keys from: https, or http on loopback (a test or a local provider). */
export function checkIssuer(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new Error(`KEPLER_AUTH_ISSUER is not a URL: ${issuer}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new Error(`KEPLER_AUTH_ISSUER must be https (http only on loopback): ${issuer}`);
  }
  return issuer;
}

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}
