// The operational HTTP surface of every process that serves HTTP: GET /metrics
// (Prometheus text), GET /health/live and GET /health/ready; and the HTTP server
// figures and spans of every request (http.server.request.duration by route
// template and status; a server span that continues the caller's traceparent).
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readiness } from './health.js';
import { secondsHistogram } from './instruments.js';
import { PROMETHEUS_CONTENT_TYPE, prometheusExposition } from './prometheus.js';
import { tracingEnabled, tracingOffWhileRunning } from './sdk.js';

export const OPERATIONAL_PATHS = ['/metrics', '/health/live', '/health/ready'] as const;

export interface OperationalRoutes {
  ready(): Promise<Readiness>;
}

/** Where a request's span is kept between hooks. */
const SPAN = Symbol('kepler.span');
type Instrumented = FastifyRequest & { [SPAN]?: Span };

/**
 * Each route's attribute sets, by method and status, built once: found through the route's own
 * config object (one object for all the requests of a route, the 404 handler's included), so
 * nothing is built per request.
 */
const durationAttributes = new WeakMap<object, Map<string, Map<number, Attributes>>>();
/** For a request without a route config (fastify gives every route one; this is a fallback). */
const NO_CONFIG = {};

function attributesOf(config: object | undefined, method: string, route: string | undefined, status: number): Attributes {
  const owner = config ?? NO_CONFIG;
  let byMethod = durationAttributes.get(owner);
  if (!byMethod) durationAttributes.set(owner, (byMethod = new Map()));
  // One route may serve several methods (the gateway's catch-all serves all of them).
  let byStatus = byMethod.get(method);
  if (!byStatus) byMethod.set(method, (byStatus = new Map()));
  let found = byStatus.get(status);
  if (!found) {
    found = { 'http.request.method': method, 'http.response.status_code': status, ...(route !== undefined && { 'http.route': route }) };
    byStatus.set(status, found);
  }
  return found;
}

/**
 * Times every request, and with tracing on runs its handler in a server span. The duration is
 * fastify's own `reply.elapsedTime` (from the request's arrival at its route to the response's
 * end, the span the hooks timed before), so no hook runs at the start of every request.
 */
export function instrumentHttp(app: FastifyInstance): void {
  const duration = secondsHistogram('http.server.request.duration', 'Duration of HTTP server requests, by route template and status');
  // No hook at all when the SDK runs without tracing (serve and the gateway start it before they
  // instrument their server): a preHandler hook, even one that returns at once, makes fastify run
  // its hook runner on every request. The SDK is not restarted under a live server.
  if (!tracingOffWhileRunning()) traceRequests(app);
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    // routeOptions is built afresh at each read: read once.
    const route = request.routeOptions;
    duration.record(reply.elapsedTime / 1e3, attributesOf(route.config as object | undefined, request.method, route.url, status));
    const span = (request as Instrumented)[SPAN];
    if (span) {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}

/** With tracing on, each request's handler runs in a server span that continues the caller's traceparent. */
function traceRequests(app: FastifyInstance): void {
  // After the body is parsed (its stream would lose the context), so the handler and all it awaits run in the span.
  app.addHook('preHandler', (request, _reply, done) => {
    if (!tracingEnabled()) return done();
    const route = request.routeOptions.url;
    if (route === undefined || (OPERATIONAL_PATHS as readonly string[]).includes(route)) return done();
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = trace.getTracer('kepler').startSpan(
      `${request.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0]!, 'url.scheme': request.protocol } },
      parent,
    );
    (request as Instrumented)[SPAN] = span;
    context.with(trace.setSpan(parent, span), done);
  });
}

/** GET /metrics, GET /health/live and GET /health/ready. */
export function registerOperationalRoutes(app: FastifyInstance, routes: OperationalRoutes): void {
  const hidden = { tags: ['operations'] };
  app.get('/metrics', { schema: { ...hidden, summary: 'Metrics in the Prometheus text format' } }, async (_request, reply: FastifyReply) => {
    const text = await prometheusExposition();
    if (text === null) return reply.code(503).type('text/plain').send('telemetry is not started\n');
    return reply.type(PROMETHEUS_CONTENT_TYPE).send(text);
  });
  app.get('/health/live', { schema: { ...hidden, summary: 'Liveness: the process answers' } }, async () => ({ status: 'live' }));
  app.get('/health/ready', { schema: { ...hidden, summary: 'Readiness: stores reachable, followers running, none too far behind' } }, async (_request, reply) => {
    const result = await routes.ready();
    return reply.code(result.ready ? 200 : 503).send({ status: result.ready ? 'ready' : 'not-ready', checks: result.checks });
  });
}
