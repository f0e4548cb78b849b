// The API gateway: one address for clients, in front of both slots' HTTP APIs.
// Forwarding is @fastify/reply-from's: bodies go through as the client sent them
// (bytes, not re-encoded JSON) and headers unchanged, Authorization included.
import replyFrom from '@fastify/reply-from';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Booking, Trade } from '../domain/index.js';
import type { EventStore } from '../eventstore/index.js';
import { tradeRefOf } from '../ingestion/cx1/index.js';
import { SLOT_HEADER, SLOTS, type Slot } from '../messaging/index.js';
import { evolveOwnership, isOwnershipEvent, UNOWNED, type OwnershipEvent, type RegistryView } from '../slots/index.js';
import { chooseSlot, commandTarget } from './routing.js';

export interface GatewayOptions {
  store: EventStore;
  registry: RegistryView;
  /** Base URL of each slot's HTTP API. */
  upstreams: Partial<Record<Slot, string>>;
  logger: Logger;
  bodyLimit?: number;
}

export interface GatewayStatus {
  live: Slot | null;
  upstreams: Partial<Record<Slot, string>>;
  forwarded: Record<Slot, number>;
}

export async function createGateway(options: GatewayOptions): Promise<{ app: FastifyInstance; status: () => Promise<GatewayStatus> }> {
  const available = SLOTS.filter((slot) => options.upstreams[slot] !== undefined);
  if (available.length === 0) throw new Error('the gateway needs at least one upstream (KEPLER_GATEWAY_BLUE_URL, KEPLER_GATEWAY_GREEN_URL)');
  const forwarded: Record<Slot, number> = { blue: 0, green: 0 };
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    routerOptions: { maxParamLength: 500 },
  });
  await app.register(replyFrom, { undici: { connections: 128, pipelining: 1 } });
  // Bodies are kept as bytes: the slot's API validates them, exactly as the client sent them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  const ownerOf = async (stream: string): Promise<Slot | null> => {
    const events = await options.store.readStream(stream);
    let ownership = UNOWNED;
    for (const event of events) if (isOwnershipEvent(event.type)) ownership = evolveOwnership(ownership, event.data as OwnershipEvent, event.position);
    return ownership.owner;
  };

  const status = async (): Promise<GatewayStatus> => ({ live: (await options.registry.current()).routing.live, upstreams: options.upstreams, forwarded: { ...forwarded } });
  app.get('/gateway/status', async () => status());

  app.all('/*', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    const raw = Buffer.isBuffer(request.body) ? request.body : undefined;
    const live = (await options.registry.current()).routing.live;
    const target = commandTarget(request.method, path, raw ? parseJson(raw) : undefined, (line) => ({ tradeRef: tradeRefOf(line), type: line.slice(0, 3) }));
    let owner: Slot | null = null;
    if (target && (target.kind === 'trade' || target.kind === 'booking' || (target.kind === 'new-trade' && target.tradeRef !== null))) {
      // A booking stream nobody owns yet is started by the live slot, like a new trade.
      const stream = target.kind === 'booking' ? Booking.bookingStream(target.tradeRef!) : Trade.tradeStream(target.tradeRef!);
      owner = await ownerOf(stream);
    }
    const slot = chooseSlot(owner, live, available);
    if (!slot) return reply.code(502).send({ type: '/problems/no-upstream', title: 'No slot to answer', status: 502 });
    forwarded[slot]++;
    const contentType = request.headers['content-type'];
    return reply.from(new URL(path, options.upstreams[slot]).toString(), {
      ...(raw !== undefined && { body: raw, contentType: contentType ?? 'application/octet-stream' }),
      rewriteHeaders: (headers) => ({ ...headers, [SLOT_HEADER]: slot }),
    });
  });
  return { app, status };
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
