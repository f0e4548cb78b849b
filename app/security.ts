import type { Logger } from 'pino';
import { isLoopback, TokenVerifier } from '../authentication/index.js';
import { operationSecurity, registerSecurity, securitySchemes } from '../authorization/index.js';
import type { HttpSecurity } from '../query-api/index.js';
import type { KeplerConfig } from './config.js';

/** Authentication off is for a developer's machine: serving beyond loopback that way takes `--insecure`. */
export function refuseUnguardedListen(config: KeplerConfig): void {
  if (config.auth || config.insecure || isLoopback(config.http.host)) return;
  throw new Error(
    `refusing to listen on ${config.http.host} with authentication off: anyone who can reach it could book and cancel trades. ` +
      'Configure an issuer (KEPLER_AUTH_ISSUER, KEPLER_AUTH_AUDIENCE), or listen on loopback, or pass --insecure',
  );
}

export function warnIfUnguarded(config: KeplerConfig, logger: Logger): void {
  if (config.auth) {
    logger.info({ issuer: config.auth.issuer, audience: config.auth.audience, entitlementsClaim: config.auth.entitlementsClaim }, 'authentication on: bearer tokens of the issuer; four eyes on');
    return;
  }
  logger.warn(
    { authentication: 'off', fourEyes: 'off', host: config.http.host, insecure: config.insecure },
    'AUTHENTICATION IS OFF: no identity provider is configured, so every request is let in, no event records who made it, ' +
      'and four eyes (maker-checker) is off. Set KEPLER_AUTH_ISSUER and KEPLER_AUTH_AUDIENCE before anyone else can reach this port',
  );
}

/**
 * The guard of a server's routes, as configured: tokens, scopes, rate limits, security headers, CORS.
 * `forwardedRoutes`: routes that forward to a server guarding itself (the gateway's), where a valid
 * token is needed and the scope is left to that server.
 */
export async function httpSecurity(config: KeplerConfig, logger: Logger, options: { forwardedRoutes?: readonly string[] } = {}): Promise<HttpSecurity> {
  const verifier = config.auth ? new TokenVerifier(config.auth) : null;
  if (verifier) {
    // Read now so a wrong issuer shows at start-up; an issuer that is down is tried again on the first request.
    await verifier.discover().catch((error: unknown) => logger.warn({ err: error, issuer: config.auth!.issuer }, 'the issuer’s discovery document cannot be read yet; tokens are refused with 503 until it can'));
  }
  return {
    register: (app) =>
      registerSecurity(app, {
        auth: config.auth,
        ...(verifier && { verifier }),
        publicPaths: config.publicPaths,
        rateLimit: config.http.rateLimit,
        corsOrigins: config.http.corsOrigins,
        ...(options.forwardedRoutes && { forwardedRoutes: options.forwardedRoutes }),
      }),
    schemes: config.auth ? securitySchemes(verifier?.tokenEndpoint ?? `${config.auth.issuer.replace(/\/$/, '')}/token`) : {},
    // A public path needs nothing: an empty requirement says so in the OpenAPI document.
    operationSecurity: config.auth ? (method, url) => (config.publicPaths.includes(url) ? [] : operationSecurity(method, url)) : () => undefined,
  };
}
