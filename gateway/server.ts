// The API gateway: one address for clients, in front of both slots' HTTP APIs, and
// the platform's edge. Forwarding is @fastify/reply-from's: bodies go through as the
// client sent them (bytes, not re-encoded JSON) and headers unchanged, Authorization
// included, so each slot verifies the token again and applies scopes and entitlements.
import replyFrom from '@fastify/reply-from';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Approvals, Booking, Trade } from '../domain/index.js';
import type { EventStore } from '../eventstore/index.js';
import { tradeRefOf } from '../ingestion/cx1/index.js';
import { SLOT_HEADER, SLOTS, type Slot } from '../messaging/index.js';
import { problemErrorHandler, sendProblem } from '../query-api/index.js';
import { evolveOwnership, isOwnershipEvent, UNOWNED, type OwnershipEvent, type RegistryView } from '../slots/index.js';
import { counter, instrumentHttp, probe, readiness, registerOperationalRoutes, type Readiness } from '../telemetry/index.js';
import { approvalTarget, chooseSlot, commandTarget, type CommandTarget } from './routing.js';

/** The route that forwards: the security guard lets it through with a valid token and leaves scopes to the slot. */
export const FORWARDED_ROUTE = '/*';

export interface GatewayOptions {
  store: EventStore;
  registry: RegistryView;
  /** Base URL of each slot's HTTP API. */
  upstreams: Partial<Record<Slot, string>>;
  logger: Logger;
  bodyLimit?: number;
  /** HTTPS with these PEM contents; plain HTTP without. */
  https?: { cert: Buffer; key: Buffer } | null;
  /**
   * The edge's guard (tokens, rate limit, CORS), registered before any route so that it
   * sees every one. Absent: nothing is checked (a test of the routing alone).
   */
  security?: (app: FastifyInstance) => Promise<void>;
}

export interface GatewayStatus {
  live: Slot | null;
  upstreams: Partial<Record<Slot, string>>;
  forwarded: Record<Slot, number>;
}

export interface Gateway {
  app: FastifyInstance;
  status(): Promise<GatewayStatus>;
  /** Ready: the slot registry can be read, and a slot to forward to is configured. */
  ready(): Promise<Readiness>;
}

const SLOT_OF = Symbol('kepler.gateway.slot');
type Forwarded = FastifyRequest & { [SLOT_OF]?: Slot };

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const available = SLOTS.filter((slot) => options.upstreams[slot] !== undefined);
  // Each slot's base: its origin and any path prefix it is served under (http://blue:3000, http://lb/blue).
  const bases = Object.fromEntries(
    available.map((slot) => {
      const base = new URL(options.upstreams[slot]!);
      return [slot, base.origin + base.pathname.replace(/\/$/, '')];
    }),
  ) as Record<Slot, string>;
  if (available.length === 0) throw new Error('the gateway needs at least one upstream (KEPLER_GATEWAY_BLUE_URL, KEPLER_GATEWAY_GREEN_URL)');
  const forwarded: Record<Slot, number> = { blue: 0, green: 0 };
  const app = Fastify({
    ...(options.https && { https: { cert: options.https.cert, key: options.https.key } }),
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    routerOptions: { maxParamLength: 500 },
  }) as unknown as FastifyInstance;
  app.setErrorHandler((error: FastifyError, request, reply) => (isUpstreamFailure(error) ? upstreamUnavailable(request, reply, error) : problemErrorHandler(error, request, reply)));
  app.setNotFoundHandler((request, reply) => sendProblem(reply, { type: '/problems/no-such-route', title: 'No such route', status: 404, detail: `${request.method} ${request.url}`, instance: request.url }));
  // Timed from before the guard, so that refused requests (401, 429) show in the request figures too.
  instrumentHttp(app);
  await options.security?.(app);
  await app.register(replyFrom, { undici: { connections: 128, pipelining: 1 } });
  // Bodies are kept as bytes: the slot's API validates them, exactly as the client sent them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  // By slot and the status the slot answered: few series, no ids.
  const forwardedCounter = counter('kepler.gateway.forwarded', 'Requests the gateway forwarded to a slot, by slot and the status of the answer', '{request}');
  const counted = new Map<string, { slot: Slot; 'http.response.status_code': number }>();
  app.addHook('onResponse', (request, reply, done) => {
    const slot = (request as Forwarded)[SLOT_OF];
    if (slot !== undefined) {
      const key = `${slot} ${reply.statusCode}`;
      let attributes = counted.get(key);
      if (!attributes) counted.set(key, (attributes = { slot, 'http.response.status_code': reply.statusCode }));
      forwardedCounter.add(1, attributes);
    }
    done();
  });

  const ownerOf = async (stream: string): Promise<Slot | null> => {
    const events = await options.store.readStream(stream);
    let ownership = UNOWNED;
    for (const event of events) if (isOwnershipEvent(event.type)) ownership = evolveOwnership(ownership, event.data as OwnershipEvent, event.position);
    return ownership.owner;
  };
  /** A four-eyes decision goes where the request's action is decided; a request not (yet) known goes to the live slot, which answers it. */
  const askedTarget = async (approvalId: string, lineInfo: Parameters<typeof approvalTarget>[1]): Promise<CommandTarget> => {
    const [requested] = await options.store.readStream(Approvals.approvalStream(approvalId));
    if (requested?.type !== 'ApprovalRequested') return { kind: 'unknown' };
    return approvalTarget((requested.data as Approvals.ApprovalRequested).action, lineInfo);
  };

  const status = async (): Promise<GatewayStatus> => ({ live: (await options.registry.current()).routing.live, upstreams: options.upstreams, forwarded: { ...forwarded } });
  // A slot being down does not make the gateway unready: the other slot may be the one that
  // answers, and an orchestrator that pulled the gateway would take both slots off the air.
  // Each slot's own /health/ready says whether it can serve.
  const ready = async (): Promise<Readiness> =>
    readiness({
      stores: [await probe('slot-registry', () => options.registry.current())],
      followers: [],
      gaps: [],
      maxGapSeconds: Number.POSITIVE_INFINITY,
      others: [{ name: 'upstreams', ok: available.length > 0, detail: available.join(', ') }],
    });

  registerOperationalRoutes(app, { ready });
  app.get('/gateway/status', async () => status());

  // Every method a slot's API answers; OPTIONS stays the gateway's (CORS preflights, as configured here).
  app.route({
    method: ['DELETE', 'GET', 'PATCH', 'POST', 'PUT'],
    url: FORWARDED_ROUTE,
    handler: async (request, reply) => {
      const path = request.url.split('?')[0]!;
      const raw = Buffer.isBuffer(request.body) ? request.body : undefined;
      const live = (await options.registry.current()).routing.live;
      const lineInfo = (line: string) => ({ tradeRef: tradeRefOf(line), type: line.slice(0, 3) });
      let target = commandTarget(request.method, path, raw ? parseJson(raw) : undefined, lineInfo);
      if (target?.kind === 'approval') target = await askedTarget(target.approvalId, lineInfo);
      let owner: Slot | null = null;
      if (target && (target.kind === 'trade' || target.kind === 'booking' || (target.kind === 'new-trade' && target.tradeRef !== null))) {
        // A booking stream nobody owns yet is started by the live slot, like a new trade.
        const stream = target.kind === 'booking' ? Booking.bookingStream(target.tradeRef!) : Trade.tradeStream(target.tradeRef!);
        owner = await ownerOf(stream);
      }
      const slot = chooseSlot(owner, live, available);
      if (!slot) return reply.code(502).send({ type: '/problems/no-upstream', title: 'No slot to answer', status: 502 });
      forwarded[slot]++;
      (request as Forwarded)[SLOT_OF] = slot;
      const contentType = request.headers['content-type'];
      // The query string is added by reply-from, from the client's request. The slot's base and the
      // path are joined as text: resolved as a URL, a path such as //elsewhere/x would name another host,
      // and the gateway would hand that host the client's token.
      return reply.from(`${bases[slot]}${path}`, {
        ...(raw !== undefined && { body: raw, contentType: contentType ?? 'application/octet-stream' }),
        rewriteHeaders: (headers) => ({ ...headers, [SLOT_HEADER]: slot }),
      });
    },
  });
  return { app, status, ready };
}

/** reply-from's errors: the slot could not be reached, or did not answer in time. */
function isUpstreamFailure(error: FastifyError): boolean {
  return typeof error.code === 'string' && error.code.startsWith('FST_REPLY_FROM_');
}

function upstreamUnavailable(request: FastifyRequest, reply: FastifyReply, error: FastifyError): FastifyReply {
  request.log.warn({ err: error, slot: (request as Forwarded)[SLOT_OF] }, 'the slot did not answer');
  reply.header('retry-after', '1');
  return sendProblem(reply, { type: '/problems/upstream-unavailable', title: 'Slot unavailable', status: 502, detail: 'the slot that answers this request cannot be reached now; retry', instance: request.url });
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
