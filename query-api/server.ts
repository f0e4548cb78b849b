import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Ajv, type ValidateFunction } from 'ajv';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { accountsWhere, entitlementsOf, isEntitled } from '../authorization/index.js';
import { LiveReadModels, type ApprovalView, type ExceptionView, type PositionView, type TradeView } from '../projections/index.js';
import type { Document, ReadStore } from '../readstore/index.js';
import { entitledExceptionCounts, entitledExceptions } from './entitled.js';
import { notFound, problemErrorHandler, sendProblem } from './problems.js';
import { ApprovalIdParam, ApprovalsQuery, ConsistencyQuery, ExceptionsQuery, PositionsQuery, PositionsSchema, TradeRefParam, TradeSchema, TradesQuery } from './schemas.js';
import { requestLogger } from './request-logger.js';
import { tradeAnswer } from './trade-json.js';
import { atTurnEnd } from './turn-end-writes.js';

export interface PlatformStatus {
  caughtUp: boolean;
  head: number;
  subscriptions: Array<{ name: string; position: number }>;
  /** The RabbitMQ feed consumer and publisher of this process, when it runs them. */
  messaging?: unknown;
}

export interface QueryApiDependencies {
  reads: ReadStore;
  /** False for a process that only shows its status. */
  queries?: boolean;
  status(): Promise<PlatformStatus>;
  /** Resolves true once the named read model reflects the position, false after the timeout. */
  waitForPosition(projection: string, position: number, timeoutMs: number): Promise<boolean>;
  logger: Logger;
  readYourWritesTimeoutMs?: number;
  /**
   * True while the event store of this process has a commit queued for the end of the turn (the
   * event store port's commitQueued): an answer is then written at once rather than after it.
   */
  commitQueued?(): boolean;
}

export const MIN_POSITION_HEADER = 'kepler-min-position';

/** What fastify sets for a JSON answer it serialises itself. */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/**
 * At most this many answers of a turn wait for each other (turn-end-writes.ts). Measured at 16
 * connections (loaded machine, ABBA): 2, 4 and 8 kept the CPU cut of no bound; 8 had the lowest
 * p99, and no bound a higher p99 than 4 in 4 rounds of 6 (one even).
 */
const ANSWERS_HELD = 8;

/** Well under DROP_GRACE_MS: a query never looks for a generation that has been dropped. */
const READ_MODEL_CACHE_MS = 100;

/** The query API as a fastify plugin, so the command API can share its server and port. */
export function registerQueryApi(app: FastifyInstance, deps: QueryApiDependencies): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const models = new LiveReadModels(deps.reads, READ_MODEL_CACHE_MS);
  const timeoutMs = deps.readYourWritesTimeoutMs ?? 5000;

  /** Read-your-writes: hold the request until the read model has caught up with the client's position. */
  const consistent = async (projection: string, request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    const position = askedPosition(request);
    if (position === null) {
      sendProblem(reply, { type: '/problems/invalid-parameter', title: 'Invalid header', status: 400, detail: `${MIN_POSITION_HEADER} must be a non-negative integer`, parameter: MIN_POSITION_HEADER });
      return false;
    }
    if (position === 0) return true;
    if (await deps.waitForPosition(projection, position, timeoutMs)) {
      // The position may have been reached after a snapshot this turn's other requests read from was taken.
      deps.reads.renewSnapshot?.();
      return true;
    }
    reply.header('retry-after', '1');
    sendProblem(reply, {
      type: '/problems/not-caught-up',
      title: 'Read model not caught up',
      status: 503,
      detail: `the ${projection} read model has not reached position ${position} within ${timeoutMs} ms; retry later`,
      minPosition: position,
    });
    return false;
  };

  api.get('/status', { schema: { tags: ['queries'], summary: 'Is every follower of the event store caught up?', querystring: ConsistencyQuery } }, async (request, reply) => {
    // With minPosition, once every read model reflects it.
    for (const projection of ['trades', 'positions', 'exceptions', 'approvals']) if (!(await consistent(projection, request, reply))) return reply;
    return deps.status();
  });
  if (deps.queries === false) return;

  /** The stored trade's text, less the read model's own fields: no parse and no serialisation (trade-json.ts). */
  const sendTrade = (reply: FastifyReply, answer: { json: string; version: number }): FastifyReply =>
    // Text already serialised: fastify sends a string with a JSON content type as it is.
    reply.header('etag', `"${answer.version}"`).type(JSON_CONTENT_TYPE).send(answer.json);
  /**
   * The common case's answer, written with the others of its event-loop turn (turn-end-writes.ts);
   * at once when a commit of this process's event store is queued for the turn's end, which would
   * run first and hold the answers for its fsync (immediates run in the order queued; commands and
   * queries answered by one process were measured 34 % fewer queries a second that way).
   */
  const deferredTrade = atTurnEnd(sendTrade, (reply: FastifyReply, error: unknown) => void reply.send(error), ANSWERS_HELD);
  const commitQueued = deps.commitQueued;
  const sendTradeAtTurnEnd = (reply: FastifyReply, answer: { json: string; version: number }): void => {
    if (commitQueued?.()) sendTrade(reply, answer);
    else deferredTrade(reply, answer);
  };

  const oneTrade = async (request: FastifyRequest<{ Params: { ref: string } }>, reply: FastifyReply) => {
    if (!(await consistent('trades', request, reply))) return reply;
    const collection = await models.collection('trades');
    const entitlements = entitlementsOf(request.principal);
    // The stored document's text, less the read model's own fields: no parse and no serialisation (trade-json.ts).
    // A principal limited to some accounts needs the trade's account first, so takes the parsing path.
    const stored = entitlements.kind === 'all' && deps.reads.getJson ? await deps.reads.getJson(collection, request.params.ref) : undefined;
    if (stored === null) return sendProblem(reply, notFound(`trade ${request.params.ref}`, request.url));
    const answer = stored === undefined ? null : tradeAnswer(stored);
    if (answer) return sendTrade(reply, answer);
    const doc = await deps.reads.get(collection, request.params.ref);
    // A trade outside the principal's accounts is not there for them: its existence is not told either.
    if (!doc || !isEntitled(entitlements, (doc as unknown as TradeView).account)) return sendProblem(reply, notFound(`trade ${request.params.ref}`, request.url));
    const trade = tradeJson(doc);
    return reply.header('etag', `"${trade.version}"`).send(trade);
  };

  api.get('/trades/:ref', { schema: { tags: ['queries'], summary: 'One trade (reference percent-encoded)', params: TradeRefParam, querystring: ConsistencyQuery, response: { 200: TradeSchema } } }, (request, reply) => {
    // The common case answered in the turn the request arrived in, with no promise at any step (each
    // await costs a few microtask turns, a share of a lookup this cheap): no position to wait for,
    // the live generation known, every account visible, a store that reads at once. Any other case,
    // and any text not of the projection's shape, takes the path below, which is the same answer.
    // The answer is read now, in the turn's snapshot, and written at the turn's end.
    const collection = deps.reads.getJsonNow && askedPosition(request) === 0 ? models.cachedCollection('trades') : undefined;
    if (collection !== undefined && entitlementsOf(request.principal).kind === 'all') {
      const stored = deps.reads.getJsonNow!(collection, request.params.ref);
      if (stored === null) {
        sendProblem(reply, notFound(`trade ${request.params.ref}`, request.url));
        return;
      }
      const answer = tradeAnswer(stored);
      if (answer) {
        sendTradeAtTurnEnd(reply, answer);
        return;
      }
    }
    return oneTrade(request, reply as FastifyReply);
  });

  api.get('/trades', { schema: { tags: ['queries'], summary: 'Trades, filtered and paginated', querystring: TradesQuery } }, async (request, reply) => {
    if (!(await consistent('trades', request, reply))) return reply;
    const { status, account, isin, limit = 100, cursor } = request.query;
    const afterId = decodeCursor(cursor);
    if (afterId === false) return invalidCursor(reply);
    const accounts = accountsWhere(entitlementsOf(request.principal), account);
    const where = { ...(status && { status }), ...(accounts !== undefined && { account: accounts }), ...(isin && { isin }) };
    const page = await deps.reads.find(await models.collection('trades'), { where, limit, ...(afterId !== null && { afterId }) });
    return { items: page.map((row) => tradeJson(row.doc)), nextCursor: nextCursorOf(page, limit) };
  });

  api.get('/positions', { schema: { tags: ['queries'], summary: 'Non-zero positions per account and ISIN', querystring: PositionsQuery, response: { 200: PositionsSchema } } }, async (request, reply) => {
    if (!(await consistent('positions', request, reply))) return reply;
    const { account, isin } = request.query;
    const accounts = accountsWhere(entitlementsOf(request.principal), account);
    const where = { nonZero: true, ...(accounts !== undefined && { account: accounts }), ...(isin && { isin }) };
    const rows = await deps.reads.find(await models.collection('positions'), { where });
    const items = rows.map(({ doc }) => {
      const position = doc as unknown as PositionView;
      return { account: position.account, isin: position.isin, quantity: BigInt(position.quantity) };
    });
    return { items };
  });

  api.get('/exceptions', { schema: { tags: ['queries'], summary: 'Rejected lines and trade exceptions', querystring: ExceptionsQuery } }, async (request, reply) => {
    if (!(await consistent('exceptions', request, reply))) return reply;
    const { code, file, limit = 100, cursor } = request.query;
    const afterId = decodeCursor(cursor);
    if (afterId === false) return invalidCursor(reply);
    const where = { ...(code !== undefined ? { code: code as string } : {}), ...(file !== undefined ? { file } : {}) };
    const entitlements = entitlementsOf(request.principal);
    if (entitlements.kind !== 'all') {
      const found = await entitledExceptions(deps.reads, await models.collection('exceptions'), await models.collection('trades'), entitlements, { where, limit, afterId });
      return { items: found.items.map((exception) => exceptionJson(exception as unknown as Document)), nextCursor: found.lastScanned === null ? null : encodeCursor(found.lastScanned) };
    }
    const page = await deps.reads.find(await models.collection('exceptions'), { where, limit, ...(afterId !== null && { afterId }) });
    return { items: page.map((row) => exceptionJson(row.doc)), nextCursor: nextCursorOf(page, limit) };
  });

  api.get('/approvals', { schema: { tags: ['approvals'], summary: 'Four-eyes requests, filtered and paginated', querystring: ApprovalsQuery } }, async (request, reply) => {
    if (!(await consistent('approvals', request, reply))) return reply;
    const { status, limit = 100, cursor } = request.query;
    const afterId = decodeCursor(cursor);
    if (afterId === false) return invalidCursor(reply);
    const accounts = accountsWhere(entitlementsOf(request.principal), undefined);
    const where = { ...(status && { status }), ...(accounts !== undefined && { account: accounts }) };
    const page = await deps.reads.find(await models.collection('approvals'), { where, limit, ...(afterId !== null && { afterId }) });
    return { items: page.map((row) => approvalJson(row.doc)), nextCursor: nextCursorOf(page, limit) };
  });

  api.get('/approvals/:id', { schema: { tags: ['approvals'], summary: 'One four-eyes request', params: ApprovalIdParam, querystring: ConsistencyQuery } }, async (request, reply) => {
    if (!(await consistent('approvals', request, reply))) return reply;
    const doc = await deps.reads.get(await models.collection('approvals'), request.params.id);
    if (!doc || !isEntitled(entitlementsOf(request.principal), (doc as unknown as ApprovalView).account)) return sendProblem(reply, notFound(`approval ${request.params.id}`, request.url));
    return approvalJson(doc);
  });

  api.get('/exceptions/counts', { schema: { tags: ['queries'], summary: 'Exceptions by reason code', querystring: ConsistencyQuery } }, async (request, reply) => {
    if (!(await consistent('exceptions', request, reply))) return reply;
    const entitlements = entitlementsOf(request.principal);
    if (entitlements.kind !== 'all') return entitledExceptionCounts(deps.reads, await models.collection('exceptions'), await models.collection('trades'), entitlements);
    return deps.reads.countBy(await models.collection('exceptions'), 'code');
  });
}

/** What guards the server's routes: registered before any of them, and shown in the OpenAPI document. */
export interface HttpSecurity {
  register(app: FastifyInstance): Promise<void>;
  /** OpenAPI `components.securitySchemes`. */
  schemes: Record<string, unknown>;
  /** OpenAPI `security` of one operation. */
  operationSecurity(method: string, url: string): Array<Record<string, string[]>> | undefined;
}

export interface HttpServerOptions {
  /** HTTPS with these PEM contents; plain HTTP without. */
  https?: { cert: Buffer; key: Buffer } | null;
  security?: HttpSecurity;
}

/**
 * The HTTP server both APIs share: problem+json errors, and an OpenAPI document
 * built from the routes' schemas (UI at /docs, JSON at /docs/json).
 */
export async function createHttpServer(logger: Logger, options: HttpServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.https && { https: { cert: options.https.cert, key: options.https.key } }),
    loggerInstance: logger as FastifyBaseLogger,
    // A path fastify cannot decode (such as "%ZZ") never reaches a route: answer it as a problem too.
    frameworkErrors: (error, request, reply) => problemErrorHandler(error, request, reply),
    // Per-request log lines would dominate the logs at the request rates the platform serves.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: requestLogger,
    // Trade references may contain '/', sent percent-encoded in the path.
    routerOptions: { maxParamLength: 500 },
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler());
  app.setErrorHandler(problemErrorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, { type: '/problems/no-such-route', title: 'No such route', status: 404, detail: `${request.method} ${request.url}`, instance: request.url }),
  );
  app.addSchema({
    $id: 'problem',
    type: 'object',
    description: 'RFC 9457 problem details',
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      instance: { type: 'string' },
    },
    additionalProperties: true,
  });
  await options.security?.register(app);
  const security = options.security;
  await app.register(swagger, {
    openapi: {
      info: { title: 'Kepler', version: '1', description: 'Commands and queries over the CX1 trade history' },
      tags: [{ name: 'commands' }, { name: 'operations' }, { name: 'queries' }, { name: 'approvals' }],
      ...(security && Object.keys(security.schemes).length > 0 && { components: { securitySchemes: security.schemes as Record<string, never> } }),
    },
    ...(security && {
      transform: ({ schema, url, route }) => {
        const method = Array.isArray(route.method) ? route.method[0]! : route.method;
        const operation = security.operationSecurity(method, route.url);
        return { schema: operation ? { ...schema, security: operation } : schema, url };
      },
    }),
  });
  // staticCSP: the UI's own Content-Security-Policy (its scripts by hash), in place of the stricter
  // default one; the inline styles the UI applies as it renders are let through.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(/style-src ([^;]*)/, "style-src $1 'unsafe-inline'"),
  });
  return app;
}

/**
 * Query strings, paths and headers are text, so their numbers are coerced; JSON
 * bodies are not, so a price sent as a JSON number (a float) is refused rather
 * than quietly turned into a string. Every invalid field is reported, not only the first.
 */
function validatorCompiler() {
  const options = { allErrors: true, useDefaults: true, strict: false } as const;
  // Query strings and headers carry what clients and proxies add: unknown ones are dropped there.
  const text = new Ajv({ ...options, removeAdditional: true, coerceTypes: 'array' });
  // A body field the schema does not know is refused (400 naming it), not silently dropped.
  // Body patterns are compiled without RegExp's "u" flag: with it, the capture body's seven patterns took
  // three times as long (1.5 µs against 0.4 µs). They hold only ASCII classes, \S and ".", which match
  // the same strings either way; a pattern needing \p{…} would need the flag back.
  const json = new Ajv({ ...options, removeAdditional: false, coerceTypes: false, unicodeRegExp: false });
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => {
    if (httpPart === 'body') return json.compile(schema);
    const validate = text.compile(schema);
    return httpPart === 'querystring' ? withoutEmptyParameters(validate) : validate;
  };
}

/**
 * `?status=&account=` is how many clients say "no filter": an empty parameter counts as absent.
 * Dropped as the query string is validated (only routes with a query schema read their query),
 * rather than by a hook that every request of every route would run.
 */
function withoutEmptyParameters(validate: ValidateFunction): ((query: unknown) => boolean) & { errors?: ValidateFunction['errors'] } {
  const validateQuery = (query: unknown): boolean => {
    if (query !== null && typeof query === 'object') {
      const parameters = query as Record<string, unknown>;
      for (const name in parameters) if (parameters[name] === '') delete parameters[name];
    }
    const valid = validate(query);
    // Fastify reads the errors from the function it was given.
    validateQuery.errors = validate.errors;
    return valid;
  };
  validateQuery.errors = null as ValidateFunction['errors'];
  return validateQuery;
}

/** The position a request asks its answer to reflect (`minPosition`, else the header): 0 for none, null for a header that is not one. */
function askedPosition(request: FastifyRequest): number | null {
  const fromQuery = (request.query as { minPosition?: number }).minPosition;
  if (fromQuery !== undefined) return fromQuery;
  const fromHeader = request.headers[MIN_POSITION_HEADER];
  if (typeof fromHeader !== 'string') return 0;
  return /^\d+$/.test(fromHeader) ? Number(fromHeader) : null;
}

function tradeJson(doc: Document) {
  const t = doc as unknown as TradeView;
  return {
    tradeRef: t.tradeRef,
    status: t.status,
    version: t.version,
    pendingVersions: t.pendingVersions,
    bookedVersion: t.bookedVersion,
    account: t.account,
    isin: t.isin,
    side: t.side,
    quantity: t.quantity,
    price: t.price,
    currency: t.currency,
    tradeDate: t.tradeDate,
    settleDate: t.settleDate,
    counterparty: t.counterparty,
    allocations: t.allocations,
    confirmation: t.confirmation,
    onHold: t.onHold,
    lastChangedBy: t.lastChangedBy ?? null,
  };
}

function exceptionJson(doc: Document) {
  const e = doc as unknown as ExceptionView;
  return { id: e.id, code: e.code, file: e.file, line: e.line, tradeRef: e.tradeRef, detail: e.detail, raw: e.raw, source: e.source, resolved: e.resolved, correctedLine: e.correctedLine ?? null };
}

function approvalJson(doc: Document) {
  const { asOf: _asOf, ...approval } = doc as unknown as ApprovalView;
  return approval;
}

function nextCursorOf(page: Array<{ id: string }>, limit: number): string | null {
  return page.length === limit ? encodeCursor(page.at(-1)!.id) : null;
}

function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** null: no cursor; false: a cursor that is not one of ours. */
function decodeCursor(cursor: string | undefined): string | null | false {
  if (cursor === undefined) return null;
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return false;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  return id.length > 0 ? id : false;
}

function invalidCursor(reply: FastifyReply) {
  return sendProblem(reply, { type: '/problems/invalid-parameter', title: 'Invalid query parameter', status: 400, detail: 'cursor is not a cursor this API issued', parameter: 'cursor' });
}
