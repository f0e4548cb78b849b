// The operational HTTP surface of every process that serves HTTP: GET /metrics
// (Prometheus text), GET /health/live and GET /health/ready; and the HTTP server
// figures and spans of every request (http.server.request.duration by route
// template and status; a server span that continues the caller's traceparent).
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readiness } from './health.js';
import { secondsHistogram } from './instruments.js';
import { PROMETHEUS_CONTENT_TYPE, prometheusExposition } from './prometheus.js';
import { tracingEnabled } from './sdk.js';

export const OPERATIONAL_PATHS = ['/metrics', '/health/live', '/health/ready'] as const;

export interface OperationalRoutes {
  ready(): Promise<Readiness>;
}

/** Where a request's start time and span are kept between hooks. */
const STARTED = Symbol('kepler.started');
const SPAN = Symbol('kepler.span');
type Instrumented = FastifyRequest & { [STARTED]?: bigint; [SPAN]?: Span };

/** Route templates and statuses are few: each attribute set is built once. */
const durationAttributes = new Map<string, Attributes>();

function attributesOf(method: string, route: string | undefined, status: number): Attributes {
  const key = `${method} ${route ?? ''} ${status}`;
  let found = durationAttributes.get(key);
  if (!found) {
    found = { 'http.request.method': method, 'http.response.status_code': status, ...(route !== undefined && { 'http.route': route }) };
    durationAttributes.set(key, found);
  }
  return found;
}

/** Times every request, and with tracing on runs its handler in a server span. */
export function instrumentHttp(app: FastifyInstance): void {
  const duration = secondsHistogram('http.server.request.duration', 'Duration of HTTP server requests, by route template and status');
  app.addHook('onRequest', (request, _reply, done) => {
    (request as Instrumented)[STARTED] = process.hrtime.bigint();
    done();
  });
  // After the body is parsed (its stream would lose the context), so the handler and all it awaits run in the span.
  app.addHook('preHandler', (request, _reply, done) => {
    const route = request.routeOptions.url;
    if (!tracingEnabled() || route === undefined || (OPERATIONAL_PATHS as readonly string[]).includes(route)) return done();
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = trace.getTracer('kepler').startSpan(
      `${request.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0]!, 'url.scheme': request.protocol } },
      parent,
    );
    (request as Instrumented)[SPAN] = span;
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const instrumented = request as Instrumented;
    const status = reply.statusCode;
    const started = instrumented[STARTED];
    if (started !== undefined) duration.record(Number(process.hrtime.bigint() - started) / 1e9, attributesOf(request.method, request.routeOptions.url, status));
    const span = instrumented[SPAN];
    if (span) {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
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
