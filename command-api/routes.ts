import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { levels } from 'pino';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as E from 'fp-ts/lib/Either.js';
import { entitlementsOf, isEntitled, logSecurityEvent, refuseAccount, refuseScope, type Scope } from '../authorization/index.js';
import { canonicalPrice, canonicalTerms, termsErrors, type TradeTerms } from '../domain/index.js';
import { deterministicId, type Actor } from '../eventstore/index.js';
import { sendProblem, type Problem } from '../query-api/index.js';
import { CommandMetrics, inSpan } from '../telemetry/index.js';
import type { ApprovalService, LoadedApproval, PendingApproval } from './approvals.js';
import { IdempotencyLedger, type StoredResponse } from './idempotency.js';
import {
  AmendmentBody,
  AllocationBody,
  AllocationParams,
  ApprovalDecisionResult,
  ApprovalParams,
  CancellationBody,
  CaptureTradeBody,
  CommandHeaders,
  CommandResult,
  ConfirmationBody,
  ExceptionParams,
  PendingApprovalResult,
  RefParams,
  ResubmissionBody,
} from './schemas.js';
import { problem, type CommandContext, type CommandOutcome, type CommandService } from './service.js';

export interface CommandApiDependencies {
  commands: CommandService;
  ledger: IdempotencyLedger;
  /**
   * Four eyes: cancelling a booked trade and resubmitting a line wait for a second
   * principal. Absent when authentication is off, since there are no principals to be two.
   */
  approvals?: ApprovalService;
}

/** What a command route's work answers: done, or waiting for a second principal's approval. */
type Outcome = E.Either<Problem, CommandOutcome extends E.Either<Problem, infer R> ? R | PendingApproval : never>;

/**
 * An account a command acts on. One the request names is refused by name (403);
 * one that is stored (the trade's, the exception's trade's) is the principal's
 * only to see if entitled, so outside the entitlements the command is answered
 * exactly as if `hidden` did not exist (404), as the queries do: a 403 naming
 * it would tell anyone with the scope which account every trade belongs to.
 */
type AccountAsked = { account: string | null; hidden?: string };

/** The accounts a command acts on, checked against the principal's entitlements before anything is written. */
type AccountsOf = () => Promise<readonly AccountAsked[]>;

const ProblemSchema = { $ref: 'problem#' };

/** A command route: its path template, its name in the command metrics and its span's name, each made once. */
interface Route {
  url: string;
  command: string;
  span: string;
}

function routeOf(method: string, url: string): Route {
  return { url, command: `${method} ${url}`, span: `command ${method} ${url}` };
}

/** The command API as a fastify plugin, on the same server as the query API. */
export function registerCommandApi(app: FastifyInstance, deps: CommandApiDependencies): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  // Errors are declared under their real media type, so the OpenAPI document says what is sent.
  const problems = { description: 'RFC 9457 problem details', content: { 'application/problem+json': { schema: ProblemSchema } } };
  const responses = (status: number) => ({ [status]: CommandResult, '4xx': problems, '5xx': problems });
  const withApproval = (status: number) => ({ ...responses(status), 202: PendingApprovalResult });
  const metrics = new CommandMetrics();
  // The route is named by the handler rather than read from request.routeOptions, which fastify builds anew at every read.
  const run = async (route: Route, request: FastifyRequest, reply: FastifyReply, status: number, accounts: AccountsOf, execute: (context: CommandContext) => Promise<Outcome>) => {
    const { command } = route;
    let answered: FastifyReply;
    try {
      answered = await runCommand(deps, route, request, reply, status, accounts, execute);
    } catch (error) {
      metrics.answered(command, 'error', false);
      throw error;
    }
    const outcome = reply.statusCode < 400 ? 'ok' : (problemSlug(reply) ?? String(reply.statusCode));
    metrics.answered(command, outcome, reply.getHeader('idempotent-replay') === 'true');
    // The line's fields are gathered only when it would be written (debug is off in production).
    if (debugEnabled(request.log)) request.log.debug({ correlation_id: tradeRefOf(request), command, outcome, status: reply.statusCode }, 'command answered');
    return answered;
  };
  const storedAccount = async (ref: string): Promise<AccountAsked> => ({ account: await deps.commands.tradeAccount(ref), hidden: `trade ${ref}` });
  const tradeAccount = (ref: string) => async () => [await storedAccount(ref)];
  const { approvals } = deps;

  const capture = routeOf('POST', '/trades');
  api.post(capture.url, { schema: { tags: ['commands'], summary: 'Capture a trade (version 1)', body: CaptureTradeBody, headers: CommandHeaders, response: responses(201) } }, (request, reply) => {
    const { tradeRef, ...terms } = request.body;
    return run(capture, request, reply, 201, async () => [{ account: terms.account }], (context) => withValidTerms(terms, (t) => deps.commands.captureTrade(tradeRef, t, context)));
  });

  const amendment = routeOf('POST', '/trades/:ref/amendments');
  api.post(amendment.url, { schema: { tags: ['commands'], summary: 'Amend a trade: the whole trade as of its next version', params: RefParams, body: AmendmentBody, headers: CommandHeaders, response: responses(201) } }, (request, reply) => {
    const { tradeRef, ...terms } = request.body;
    const { ref } = request.params;
    if (tradeRef !== undefined && tradeRef !== ref) {
      const message = `must be the trade of the path, ${ref}`;
      return refuse(reply, problem(422, 'validation-failed', 'Invalid trade', `tradeRef ${message}`, { errors: [{ field: 'tradeRef', message }] }));
    }
    const accounts = async () => [await storedAccount(ref), { account: terms.account }];
    return run(amendment, request, reply, 201, accounts, (context) => withValidTerms(terms, (t) => deps.commands.amendTrade(ref, t, context)));
  });

  const cancellation = routeOf('POST', '/trades/:ref/cancellation');
  api.post(cancellation.url, { schema: { tags: ['commands'], summary: 'Cancel a trade: its next version (a booked one waits for a second principal: 202)', params: RefParams, body: CancellationBody, headers: CommandHeaders, response: withApproval(201) } }, (request, reply) => {
    const { ref } = request.params;
    const { reason } = request.body;
    return run(cancellation, request, reply, 201, tradeAccount(ref), async (context) => {
      if (!approvals || !context.actor) return deps.commands.cancelTrade(ref, reason, context);
      // Whether the trade is booked is decided with the cancellation, not checked before it: a booking that
      // lands before the cancellation commits sends it here instead (see cancelUnlessBooked).
      const decided = await deps.commands.cancelUnlessBooked(ref, reason, context);
      if (E.isLeft(decided)) return decided;
      if (!('fourEyes' in decided.right)) return E.right(decided.right);
      // If-Match held for the request as it would for the cancellation itself; the version the maker
      // saw is recorded with the request, and the approval cancels that version or nothing.
      const { version, account } = decided.right;
      const action = { kind: 'cancel-trade' as const, tradeRef: ref, reason, version };
      return approvals.request({ approvalId: approvalIdOf(context), tradeRef: ref, account, action, scope: 'trades:cancel', requestedBy: context.actor }, context.traceparent);
    });
  });

  const allocation = routeOf('PUT', '/trades/:ref/allocations/:allocationId');
  api.put(allocation.url, { schema: { tags: ['commands'], summary: 'Allocate (quantity 0 withdraws)', params: AllocationParams, body: AllocationBody, headers: CommandHeaders, response: responses(200) } }, (request, reply) => {
    const accounts = async () => [await storedAccount(request.params.ref), { account: request.body.account }];
    return run(allocation, request, reply, 200, accounts, (context) => deps.commands.allocate(request.params.ref, request.params.allocationId, request.body.account, request.body.quantity, context));
  });

  const confirmation = routeOf('POST', '/trades/:ref/confirmations');
  api.post(confirmation.url, { schema: { tags: ['commands'], summary: 'Confirm or reject, as the custodian', params: RefParams, body: ConfirmationBody, headers: CommandHeaders, response: responses(201) } }, (request, reply) => {
    const price = canonicalPrice(request.body.price)!;
    return run(confirmation, request, reply, 201, tradeAccount(request.params.ref), (context) => deps.commands.confirm(request.params.ref, { ...request.body, price }, context));
  });

  // The body is optional here, so its one field is read by hand rather than through a body schema.
  const hold = routeOf('PUT', '/trades/:ref/hold');
  api.put(hold.url, { schema: { tags: ['operations'], summary: "Put the trade's booking on hold (optional body: {reason})", params: RefParams, headers: CommandHeaders, response: responses(200) } }, (request, reply) =>
    run(hold, request, reply, 200, tradeAccount(request.params.ref), (context) => deps.commands.placeHold(request.params.ref, holdReason(request.body), context)),
  );

  const release = routeOf('DELETE', '/trades/:ref/hold');
  api.delete(release.url, { schema: { tags: ['operations'], summary: 'Release the hold', params: RefParams, headers: CommandHeaders, response: responses(200) } }, (request, reply) =>
    run(release, request, reply, 200, tradeAccount(request.params.ref), (context) => deps.commands.releaseHold(request.params.ref, context)),
  );

  const resubmission = routeOf('POST', '/exceptions/:id/resubmission');
  api.post(resubmission.url, { schema: { tags: ['operations'], summary: 'Resubmit a rejected line, corrected (waits for a second principal: 202)', params: ExceptionParams, body: ResubmissionBody, headers: CommandHeaders, response: withApproval(201) } }, (request, reply) => {
    const { id } = request.params;
    const { line } = request.body;
    return run(resubmission, request, reply, 201, () => resubmissionAccounts(deps.commands, id, line), async (context) => {
      if (!approvals || !context.actor) return deps.commands.resubmit(id, line, context);
      // Checked now, so a request that could never be carried out is refused at once rather than approved in vain.
      const checked = await deps.commands.checkResubmission(id, line);
      if (E.isLeft(checked)) return checked;
      const { tradeRef } = checked.right.record;
      const account = await deps.commands.tradeAccount(checked.right.exception.tradeRef ?? tradeRef);
      return approvals.request({ approvalId: approvalIdOf(context), tradeRef, account, action: { kind: 'resubmit-line', exceptionId: id, line }, scope: 'exceptions:resubmit', requestedBy: context.actor }, context.traceparent);
    });
  });

  if (approvals) registerApprovalRoutes(app, approvals, problems);
}

/**
 * A second principal decides a four-eyes request: they need the right to decide
 * (the route's scope), the scope of what the request asks for, and the request's
 * account among their entitlements; they can never be the one who asked.
 */
function registerApprovalRoutes(app: FastifyInstance, approvals: ApprovalService, problems: object): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const decide = async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, verdict: (by: Actor, traceparent: string | undefined) => Promise<E.Either<Problem, LoadedApproval>>) => {
    // These routes exist only with authentication on, where the guard lets no request in without a principal.
    const principal = request.principal!;
    const standing = await approvals.load(request.params.id);
    const asked = standing.state.request;
    // Outside the principal's accounts, a request is answered as if it did not exist, as GET /approvals/:id answers it.
    if (!asked || !isEntitled(principal.entitlements, asked.account)) {
      if (asked) logSecurityEvent(request, 404, `not entitled to approval ${request.params.id} (account ${asked.account})`);
      return sendProblem(reply, problem(404, 'not-found', 'Not found', `approval ${request.params.id} does not exist`, { instance: request.url }));
    }
    if (!principal.scopes.has(asked.scope)) return refuseScope(request, reply, asked.scope as Scope);
    const decided = await inSpan(`${request.method} ${request.routeOptions.url}`, request.headers, (traceparent) => verdict(principal.actor, traceparent));
    if (E.isLeft(decided)) return sendProblem(reply, { ...decided.left, instance: request.url });
    return approvalJson(request.params.id, decided.right);
  };
  // The body is optional ({reason}), so it is read by hand rather than through a body schema, as for a hold.
  const schema = (summary: string) => ({ tags: ['approvals'], summary, params: ApprovalParams, response: { 200: ApprovalDecisionResult, '4xx': problems, '5xx': problems } });

  api.post('/approvals/:id/approval', { schema: schema('Approve another principal’s request; the action is then carried out, once') }, (request, reply) =>
    decide(request, reply, (by, traceparent) => approvals.approve(request.params.id, by, traceparent)),
  );
  api.post('/approvals/:id/rejection', { schema: schema('Reject another principal’s request') }, (request, reply) =>
    decide(request, reply, (by, traceparent) => approvals.reject(request.params.id, by, reasonIn(request.body, ''), traceparent)),
  );
}

function approvalJson(id: string, approval: LoadedApproval) {
  const { state } = approval;
  return { approvalId: id, status: state.status, decidedBy: state.decidedBy, outcome: state.outcome, position: approval.position };
}

/** The request's approval id: from its Idempotency-Key when it has one, so a retry names the same request. */
function approvalIdOf(context: CommandContext): string {
  return deterministicId('approval-request', context.inputId);
}

/** A resubmission acts on the exception's trade, and on the account the corrected line names, if it names one. */
async function resubmissionAccounts(commands: CommandService, exceptionId: string, line: string): Promise<readonly AccountAsked[]> {
  const checked = await commands.checkResubmission(exceptionId, line);
  // A request that will be refused anyway (no such exception, a broken line) is refused as such, not as an entitlement.
  if (E.isLeft(checked)) return [];
  const { exception, record } = checked.right;
  const accounts: AccountAsked[] = [{ account: await commands.tradeAccount(exception.tradeRef ?? record.tradeRef), hidden: `exception ${exceptionId}` }];
  if ('terms' in record) accounts.push({ account: record.terms.account });
  if (record.type === 'ALC') accounts.push({ account: record.account });
  return accounts;
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

/** Whether a line at debug level would be written: the request's logger is pino's or stands in for it (query-api/request-logger.ts). */
function debugEnabled(log: FastifyBaseLogger): boolean {
  const value = levels.values[log.level];
  return value !== undefined && value <= levels.values.debug!;
}

function holdReason(body: unknown): string {
  return reasonIn(body, 'held by operations');
}

function reasonIn(body: unknown, otherwise: string): string {
  const reason = typeof body === 'object' && body !== null ? (body as { reason?: unknown }).reason : undefined;
  return typeof reason === 'string' && reason.trim() !== '' ? reason.slice(0, 200) : otherwise;
}

function withValidTerms(terms: TradeTerms, execute: (terms: TradeTerms) => Promise<Outcome>): Promise<Outcome> {
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
  route: Route,
  request: FastifyRequest,
  reply: FastifyReply,
  successStatus: number,
  accountsOf: AccountsOf,
  execute: (context: CommandContext) => Promise<Outcome>,
): Promise<FastifyReply> {
  const principal = request.principal;
  // Outside the principal's accounts: refused before the key is claimed, so nothing at all is appended.
  const entitlements = entitlementsOf(principal);
  if (entitlements.kind !== 'all') {
    const outside = (await accountsOf()).find(({ account }) => !isEntitled(entitlements, account));
    if (outside?.hidden !== undefined) {
      // The log says what the client is not told.
      logSecurityEvent(request, 404, `not entitled to ${outside.hidden}${outside.account === null ? '' : ` (account ${outside.account})`}`);
      return sendProblem(reply, problem(404, 'not-found', 'Not found', `${outside.hidden} does not exist`, { instance: request.url }));
    }
    if (outside !== undefined) return refuseAccount(request, reply, outside.account === null ? 'a trade without a known account' : `account ${outside.account}`);
  }
  // A malformed header is refused before the key is claimed: nothing ran, so nothing is kept.
  const ifMatch = header(request, 'if-match');
  const expectedVersions = ifMatch === undefined ? undefined : parseIfMatch(ifMatch);
  if (expectedVersions === null) {
    return refuse(reply, problem(400, 'invalid-header', 'Invalid If-Match', 'If-Match must be "*" or entity tags such as "3" or "3", "4"', { parameter: 'if-match' }));
  }
  const sent = header(request, 'idempotency-key');
  // A key is the principal's own: another principal sending the same key is another request altogether.
  const key = sent !== undefined && principal ? IdempotencyLedger.principalKey(principal.actor.subject, sent) : sent;
  // Only a request with a key is ever compared with another.
  const requestHash = key ? IdempotencyLedger.requestHash(request.method, route.url, request.params, request.body) : '';
  if (key) {
    const standing = await deps.ledger.claim(key, requestHash, principal?.actor);
    if (standing.kind === 'answered') return replay(reply, standing.response, requestHash);
    if (standing.requestHash !== requestHash) return keyReused(reply);
  }
  const outcome = await inSpan(route.span, request.headers, (traceparent) =>
    execute({
      inputId: key ? IdempotencyLedger.inputId(key) : randomUUID(),
      ...(expectedVersions !== undefined && expectedVersions !== '*' && { expectedVersions }),
      ...(traceparent !== undefined && { traceparent }),
      ...(principal && { actor: principal.actor }),
    }),
  );
  const answer: StoredResponse = E.isLeft(outcome)
    ? { requestHash, status: outcome.left.status, body: { ...outcome.left, instance: request.url }, etag: null }
    : 'approvalId' in outcome.right
      ? { requestHash, status: 202, body: outcome.right, etag: null }
      : { requestHash, status: successStatus, body: outcome.right, etag: `"${outcome.right.version}"` };
  // A server-side failure (contention, 5xx) is not an answer to keep: the retry should run again. Nor is
  // 421: the trade is decided by the other slot, which the retry reaches (through the gateway).
  if (!key || answer.status >= 500 || answer.status === 421) return send(reply, answer);
  const recorded = await deps.ledger.record(key, answer, principal?.actor);
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
  if (answer.status === 202) reply.header('location', `/approvals/${encodeURIComponent((answer.body as PendingApproval).approvalId)}`);
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
