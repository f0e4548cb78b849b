// Authentication: a bearer token becomes a principal, or is refused. Tokens are
// JWTs of an OpenID Connect issuer, checked with jose against the issuer's keys.
export { checkAlgorithms, checkIssuer, checkPublicPaths, isLoopback, DEFAULT_ALGORITHMS, DEFAULT_ENTITLEMENTS_CLAIM, DEFAULT_PUBLIC_PATHS, type AuthConfig } from './config.js';
export { ALL_ACCOUNTS, principalOf, type Entitlements, type Principal } from './principal.js';
export { TokenVerifier, type Verification } from './verifier.js';
export { bearerChallenge, bearerToken, insufficientScopeChallenge } from './bearer.js';
export { redactCredentials, redactDeep, REDACT_PATHS, REDACTED } from './redaction.js';
