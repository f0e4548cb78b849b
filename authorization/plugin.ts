import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import helmet from 'helmet';
import { bearerChallenge, bearerToken, insufficientScopeChallenge, TokenVerifier, type AuthConfig, type Principal } from '../authentication/index.js';
import { DOCS_PREFIX, SCOPES, scopeOf, type Scope } from './scopes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent the request; null when authentication is off or the path is public. */
    principal: Principal | null;
  }
}

export interface SecurityOptions {
  /** Null: authentication is off, and every request is let in as before. */
  auth: AuthConfig | null;
  /** Paths served to anyone, without a token (liveness, readiness, metrics). */
  publicPaths: readonly string[];
  /** Requests per principal (per address without one) and window; null for no limit. */
  rateLimit: { max: number; windowMs: number } | null;
  /** Origins allowed by CORS; null keeps CORS off (no Access-Control-* headers at all). */
  corsOrigins: readonly string[] | null;
  /** Verifies tokens; one is made from `auth` when not given. */
  verifier?: TokenVerifier;
  /**
   * Routes that forward to another server which guards itself (the gateway's catch-all):
   * a request on them must carry a valid token (401 here, never reaching the server behind),
   * and its scope and entitlements are checked there, by the release that serves it.
   */
  forwardedRoutes?: readonly string[];
}

const REALM = 'kepler';

/**
 * Everything a request passes before a route runs: a bearer token checked
 * (401), the scope its route needs (403), a rate limit per principal (429), and
 * security headers on the HTML pages. Registered on the root instance before any
 * route, so that it sees and guards every one; a route the scope table does not
 * name stops the server from starting.
 */
export async function registerSecurity(app: FastifyInstance, options: SecurityOptions): Promise<void> {
  const { auth } = options;
  const verifier = auth ? (options.verifier ?? new TokenVerifier(auth)) : null;
  const publicPaths = new Set(options.publicPaths);
  const forwarded = new Set(options.forwardedRoutes ?? []);
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    // Content-Security-Policy, X-Content-Type-Options, frame-ancestors, HSTS, … where a browser acts
    // on what it gets: the HTML pages, as hooks of their own routes (after the token check, as any
    // route's), so JSON answers pay nothing for them; @fastify/helmet's hooks ran on every request.
    if (isHtmlPage(route.url)) route.onRequest = [...hooksOf(route.onRequest), htmlSecurityHeaders];
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'OPTIONS' || publicPaths.has(route.url) || forwarded.has(route.url)) continue;
      if (scopeOf(method, route.url) === undefined) throw new Error(`${method} ${route.url} is not in the scope table (authorization/scopes.ts)`);
    }
  });

  if (verifier) {
    app.addHook('onRequest', async (request, reply) => {
      const path = request.url.split('?')[0]!;
      if ((request.method === 'GET' || request.method === 'HEAD') && publicPaths.has(path)) return;
      if (request.method === 'OPTIONS' && options.corsOrigins) return;
      const header = request.headers.authorization;
      const token = bearerToken(header);
      if (token === null) {
        const malformed = header !== undefined;
        reply.header('www-authenticate', bearerChallenge(REALM, malformed ? { code: 'invalid_token', description: 'the Authorization header is not a bearer token' } : undefined));
        return refuse(request, reply, 401, malformed ? 'malformed Authorization header' : 'no bearer token', {
          type: '/problems/unauthorized',
          title: 'Unauthorized',
          detail: 'this request needs a bearer token (OAuth 2.0, RFC 6750)',
        });
      }
      const verification = await verifier.verify(token);
      if (!verification.ok && verification.kind === 'unavailable') {
        reply.header('retry-after', '5');
        return refuse(request, reply, 503, verification.reason, { type: '/problems/identity-provider-unavailable', title: 'Identity provider unavailable', detail: 'the keys of the token issuer cannot be had now; retry later' });
      }
      if (!verification.ok) {
        const description = verification.expired ? 'the access token expired' : 'the access token is not valid';
        reply.header('www-authenticate', bearerChallenge(REALM, { code: 'invalid_token', description }));
        return refuse(request, reply, 401, verification.reason, { type: '/problems/invalid-token', title: 'Unauthorized', detail: description });
      }
      request.principal = verification.principal;
      const route = request.routeOptions.url;
      // An unknown path is left to the 404 handler, now that the caller has shown who they are.
      if (route === undefined) return;
      // Authenticated; what the token may do is decided by the server the request goes to.
      if (forwarded.has(route)) return;
      const scope = scopeOf(request.method, route);
      if (scope === undefined) return refuse(request, reply, 403, 'route not in the scope table', { type: '/problems/forbidden', title: 'Forbidden', detail: 'no scope grants this request' });
      if (scope !== null && !verification.principal.scopes.has(scope)) {
        return refuseScope(request, reply, scope);
      }
    });
  }

  // Loaded only when configured: every process starts faster without them.
  if (options.corsOrigins) {
    const { default: cors } = await import('@fastify/cors');
    await app.register(cors, { origin: [...options.corsOrigins], credentials: false });
  }
  if (options.rateLimit) {
    const { default: rateLimit } = await import('@fastify/rate-limit');
    const windowSeconds = Math.ceil(options.rateLimit.windowMs / 1000);
    await app.register(rateLimit, {
      // After authentication, so the limit is the principal's and a refused token costs no budget.
      hook: 'preParsing',
      max: options.rateLimit.max,
      timeWindow: options.rateLimit.windowMs,
      keyGenerator: (request) => (request.principal ? `principal:${request.principal.actor.subject}` : `address:${request.ip}`),
      allowList: (request) => publicPaths.has(request.url.split('?')[0]!),
      errorResponseBuilder: (request, context) => {
        logSecurityEvent(request, 429, 'rate limit');
        return Object.assign(new Error(`more than ${context.max} requests in ${windowSeconds} s; try again in ${context.after}`), { statusCode: 429, code: 'KEPLER_RATE_LIMITED' });
      },
    });
  }
}

/** helmet's defaults, as @fastify/helmet applied them. */
const securityHeaders = helmet();

function htmlSecurityHeaders(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  securityHeaders(request.raw, reply.raw, (error) => done(error as Error | undefined));
}

function hooksOf<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

/** The API documentation (Swagger UI) and the regression report. */
function isHtmlPage(url: string): boolean {
  return url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`) || url.endsWith('.html');
}

/**
 * A refused request is a security event: logged with the route, the reason and
 * the principal when there is one, never the token.
 */
export function logSecurityEvent(request: FastifyRequest, status: number, reason: string): void {
  request.log.warn(
    {
      security: {
        outcome: 'refused',
        status,
        reason,
        method: request.method,
        route: request.routeOptions.url ?? null,
        path: request.url.split('?')[0],
        ip: request.ip,
        ...(request.principal && { principal: request.principal.actor }),
      },
    },
    'request refused',
  );
}

function refuse(request: FastifyRequest, reply: FastifyReply, status: 401 | 403 | 503, reason: string, problem: Record<string, unknown>): FastifyReply {
  logSecurityEvent(request, status, reason);
  return reply.code(status).type('application/problem+json').send({ status, instance: request.url, ...problem });
}

/** 403 naming the scope a request lacks; also for routes whose scope depends on what they act on (approvals). */
export function refuseScope(request: FastifyRequest, reply: FastifyReply, scope: Scope): FastifyReply {
  reply.header('www-authenticate', insufficientScopeChallenge(REALM, scope));
  return refuse(request, reply, 403, `lacks scope ${scope}`, { type: '/problems/insufficient-scope', title: 'Forbidden', detail: `this request needs the scope ${scope}`, scope });
}

/** 403 for a request on an account outside the principal's entitlements: it appends nothing. */
export function refuseAccount(request: FastifyRequest, reply: FastifyReply, what: string): FastifyReply {
  return refuse(request, reply, 403, `not entitled to ${what}`, { type: '/problems/not-entitled', title: 'Forbidden', detail: `this principal is not entitled to ${what}` });
}

/** OpenAPI: the bearer scheme and the client-credentials flow with every scope. */
export function securitySchemes(tokenUrl: string): Record<string, unknown> {
  return {
    bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'an access token (a JWT) of the configured OpenID Connect issuer, for the audience Kepler is configured with' },
    oauth2: {
      type: 'oauth2',
      description: 'machine clients: the client-credentials grant of the same issuer',
      flows: { clientCredentials: { tokenUrl, scopes: { ...SCOPES } } },
    },
  };
}

/** OpenAPI: what one operation needs; undefined leaves the operation as it is. */
export function operationSecurity(method: string, url: string): Array<Record<string, string[]>> | undefined {
  const scope = scopeOf(method, url);
  if (scope === undefined) return undefined;
  const scopes = scope === null ? [] : [scope];
  return [{ bearer: scopes }, { oauth2: scopes }];
}
