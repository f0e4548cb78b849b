import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalPrice, canonicalTerms, termsErrors, type TradeTerms } from '../domain/index.js';
import { sendProblem, type Problem } from '../query-api/index.js';
import { CommandMetrics, inSpan } from '../telemetry/index.js';
import { IdempotencyLedger, type StoredResponse } from './idempotency.js';
import {
  AmendmentBody,
  AllocationBody,
  AllocationParams,
  CancellationBody,
  CaptureTradeBody,
  CommandHeaders,
  CommandResult,
  ConfirmationBody,
  ExceptionParams,
  RefParams,
  ResubmissionBody,
} from './schemas.js';
import { problem, type CommandContext, type CommandOutcome, type CommandService } from './service.js';

export interface CommandApiDependencies {
  commands: CommandService;
  ledger: IdempotencyLedger;
}

const ProblemSchema = { $ref: 'problem#' };

/** The command API as a fastify plugin, on the same server as the query API. */
export function registerCommandApi(app: FastifyInstance, deps: CommandApiDependencies): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  // Errors are declared under their real media type, so the OpenAPI document says what is sent.
  const problems = { description: 'RFC 9457 problem details', content: { 'application/problem+json': { schema: ProblemSchema } } };
  const responses = (status: number) => ({ [status]: CommandResult, '4xx': problems, '5xx': problems });
  const metrics = new CommandMetrics();
  const run = async (request: FastifyRequest, reply: FastifyReply, status: number, execute: (context: CommandContext) => Promise<CommandOutcome>) => {
    const command = `${request.method} ${request.routeOptions.url ?? ''}`;
    let answered: FastifyReply;
    try {
      answered = await runCommand(deps, request, reply, status, execute);
    } catch (error) {
      metrics.answered(command, 'error', false);
      throw error;
    }
    const outcome = reply.statusCode < 400 ? 'ok' : (problemSlug(reply) ?? String(reply.statusCode));
    metrics.answered(command, outcome, reply.getHeader('idempotent-replay') === 'true');
    request.log.debug({ correlation_id: tradeRefOf(request), command, outcome, status: reply.statusCode }, 'command answered');
    return answered;
  };

  api.post('/trades', { schema: { tags: ['commands'], summary: 'Capture a trade (version 1)', body: CaptureTradeBody, headers: CommandHeaders, response: responses(201) } }, (request, reply) => {
    const { tradeRef, ...terms } = request.body;
    return run(request, reply, 201, (context) => withValidTerms(terms, (t) => deps.commands.captureTrade(tradeRef, t, context)));
  });

  api.post('/trades/:ref/amendments', { schema: { tags: ['commands'], summary: 'Amend a trade: the whole trade as of its next version', params: RefParams, body: AmendmentBody, headers: CommandHeaders, response: responses(201) } }, (request, reply) => {
    const { tradeRef, ...terms } = request.body;
    const { ref } = request.params;
    if (tradeRef !== undefined && tradeRef !== ref) {
      const message = `must be the trade of the path, ${ref}`;
      return refuse(reply, problem(422, 'validation-failed', 'Invalid trade', `tradeRef ${message}`, { errors: [{ field: 'tradeRef', message }] }));
    }
    return run(request, reply, 201, (context) => withValidTerms(terms, (t) => deps.commands.amendTrade(ref, t, context)));
  });

  api.post('/trades/:ref/cancellation', { schema: { tags: ['commands'], summary: "Cancel a trade: its next version", params: RefParams, body: CancellationBody, headers: CommandHeaders, response: responses(201) } }, (request, reply) =>
    run(request, reply, 201, (context) => deps.commands.cancelTrade(request.params.ref, request.body.reason, context)),
  );

  api.put('/trades/:ref/allocations/:allocationId', { schema: { tags: ['commands'], summary: 'Allocate (quantity 0 withdraws)', params: AllocationParams, body: AllocationBody, headers: CommandHeaders, response: responses(200) } }, (request, reply) =>
    run(request, reply, 200, (context) => deps.commands.allocate(request.params.ref, request.params.allocationId, request.body.account, request.body.quantity, context)),
  );

  api.post('/trades/:ref/confirmations', { schema: { tags: ['commands'], summary: 'Confirm or reject, as the custodian', params: RefParams, body: ConfirmationBody, headers: CommandHeaders, response: responses(201) } }, (request, reply) => {
    const price = canonicalPrice(request.body.price)!;
    return run(request, reply, 201, (context) => deps.commands.confirm(request.params.ref, { ...request.body, price }, context));
  });

  // The body is optional here, so its one field is read by hand rather than through a body schema.
  api.put('/trades/:ref/hold', { schema: { tags: ['operations'], summary: "Put the trade's booking on hold (optional body: {reason})", params: RefParams, headers: CommandHeaders, response: responses(200) } }, (request, reply) =>
    run(request, reply, 200, (context) => deps.commands.placeHold(request.params.ref, holdReason(request.body), context)),
  );

  api.delete('/trades/:ref/hold', { schema: { tags: ['operations'], summary: 'Release the hold', params: RefParams, headers: CommandHeaders, response: responses(200) } }, (request, reply) =>
    run(request, reply, 200, (context) => deps.commands.releaseHold(request.params.ref, context)),
  );

  api.post('/exceptions/:id/resubmission', { schema: { tags: ['operations'], summary: 'Resubmit a rejected line, corrected', params: ExceptionParams, body: ResubmissionBody, headers: CommandHeaders, response: responses(201) } }, (request, reply) =>
    run(request, reply, 201, (context) => deps.commands.resubmit(request.params.id, request.body.line, context)),
  );
}

/** The problem type each refused reply carried, for the command metrics (fastify's replies take no new properties). */
const problemTypes = new WeakMap<FastifyReply, string>();

/** The last segment of the problem type the reply carries (version-conflict, busy, …). */
function problemSlug(reply: FastifyReply): string | undefined {
  return problemTypes.get(reply)?.split('/').pop();
}

function tradeRefOf(request: FastifyRequest): string | undefined {
  const params = request.params as { ref?: string } | undefined;
  const body = request.body as { tradeRef?: unknown } | undefined;
  return params?.ref ?? (typeof body?.tradeRef === 'string' ? body.tradeRef : undefined);
}

function holdReason(body: unknown): string {
  const reason = typeof body === 'object' && body !== null ? (body as { reason?: unknown }).reason : undefined;
  return typeof reason === 'string' && reason.trim() !== '' ? reason.slice(0, 200) : 'held by operations';
}

function withValidTerms(terms: TradeTerms, execute: (terms: TradeTerms) => Promise<CommandOutcome>): Promise<CommandOutcome> {
  const errors = termsErrors(terms);
  if (errors.length > 0) {
    return Promise.resolve(E.left(problem(422, 'validation-failed', 'Invalid trade', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors })));
  }
  return execute(canonicalTerms(terms));
}

/**
 * Idempotency-Key and If-Match around a command: a retry with the same key and
 * request gets the first response and appends nothing; the same key with another
 * request is a 422 and runs nothing; a stale If-Match is a 409 naming the current
 * version. Refusals are answers too: a retry of a refused command is refused the
 * same way, even if the trade has changed since.
 */
async function runCommand(
  deps: CommandApiDependencies,
  request: FastifyRequest,
  reply: FastifyReply,
  successStatus: number,
  execute: (context: CommandContext) => Promise<CommandOutcome>,
): Promise<FastifyReply> {
  // A malformed header is refused before the key is claimed: nothing ran, so nothing is kept.
  const ifMatch = header(request, 'if-match');
  const expectedVersions = ifMatch === undefined ? undefined : parseIfMatch(ifMatch);
  if (expectedVersions === null) {
    return refuse(reply, problem(400, 'invalid-header', 'Invalid If-Match', 'If-Match must be "*" or entity tags such as "3" or "3", "4"', { parameter: 'if-match' }));
  }
  const key = header(request, 'idempotency-key');
  // Only a request with a key is ever compared with another.
  const requestHash = key ? IdempotencyLedger.requestHash(request.method, request.routeOptions.url ?? request.url, request.params, request.body) : '';
  if (key) {
    let standing = await deps.ledger.state(key);
    if (standing.kind === 'free') standing = await deps.ledger.claim(key, requestHash);
    if (standing.kind === 'answered') return replay(reply, standing.response, requestHash);
    if (standing.requestHash !== requestHash) return keyReused(reply);
  }
  const outcome = await inSpan(`command ${request.method} ${request.routeOptions.url ?? request.url}`, request.headers, (traceparent) =>
    execute({
      inputId: key ? IdempotencyLedger.inputId(key) : randomUUID(),
      ...(expectedVersions !== undefined && expectedVersions !== '*' && { expectedVersions }),
      ...(traceparent !== undefined && { traceparent }),
    }),
  );
  const answer: StoredResponse = E.isLeft(outcome)
    ? { requestHash, status: outcome.left.status, body: { ...outcome.left, instance: request.url }, etag: null }
    : { requestHash, status: successStatus, body: outcome.right, etag: `"${outcome.right.version}"` };
  // A server-side failure (contention, 5xx) is not an answer to keep: the retry should run again.
  if (!key || answer.status >= 500) return send(reply, answer);
  const recorded = await deps.ledger.record(key, answer);
  return recorded.first ? send(reply, recorded.response) : replay(reply, recorded.response, requestHash);
}

/** Sends a problem, keeping its type for the command metrics. */
function refuse(reply: FastifyReply, refusal: Problem): FastifyReply {
  problemTypes.set(reply, refusal.type);
  return sendProblem(reply, refusal);
}

function send(reply: FastifyReply, answer: StoredResponse): FastifyReply {
  if (answer.status >= 400) return refuse(reply, answer.body as Problem);
  if (answer.etag) reply.header('etag', answer.etag);
  return reply.code(answer.status).send(answer.body);
}

function replay(reply: FastifyReply, first: StoredResponse, requestHash: string): FastifyReply {
  if (first.requestHash !== requestHash) return keyReused(reply);
  reply.header('idempotent-replay', 'true');
  return send(reply, first);
}

function keyReused(reply: FastifyReply): FastifyReply {
  return refuse(reply, problem(422, 'idempotency-key-reused', 'Idempotency-Key reused', 'this Idempotency-Key was already used with a different request'));
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * If-Match as RFC 9110 has it: "*", or a list of entity tags compared strongly, so
 * a weak tag (W/"3") never matches. The strong tags' values, "*", or null when the
 * header is not that syntax.
 */
function parseIfMatch(value: string): readonly string[] | '*' | null {
  if (value.trim() === '*') return '*';
  const tags: string[] = [];
  const entityTag = /\s*(W\/)?"([\x21\x23-\x7e]*)"\s*(,|$)/y;
  for (let match = entityTag.exec(value); match; match = entityTag.exec(value)) {
    if (!match[1]) tags.push(match[2]!);
    if (match[3] === '') return entityTag.lastIndex === value.length ? tags : null;
  }
  return null;
}
