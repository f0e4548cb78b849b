import * as E from 'fp-ts/lib/Either.js';
import { Approvals } from '../domain/index.js';
import { deterministicId, WrongExpectedRevisionError, type Actor, type EventStore } from '../eventstore/index.js';
import type { Problem } from '../query-api/index.js';
import { problem, type CommandService } from './service.js';

/** What a request that needs a second principal answers: 202, and where to follow it. */
export interface PendingApproval {
  approvalId: string;
  status: 'PENDING';
  tradeRef: string;
  /** For a cancellation: the trade version asked for, the only one the approval will cancel. */
  version?: number;
  position: number;
}

export interface LoadedApproval {
  state: Approvals.ApprovalState;
  revision: number | null;
  position: number;
}

const MAX_ATTEMPTS = 5;

/**
 * Four eyes (maker–checker) over the approval aggregate: a request is recorded
 * and waits; a second principal approves it, and the action is then carried out
 * once, with the maker as its actor and an input id derived from the approval, so
 * a retried approval does not do it twice; its answer is kept with the approval.
 */
export class ApprovalService {
  constructor(
    private readonly store: EventStore,
    private readonly commands: CommandService,
  ) {}

  async request(command: Omit<Approvals.RequestApproval, 'type'>, traceparent?: string): Promise<E.Either<Problem, PendingApproval>> {
    const decided = await this.decideAndAppend({ type: 'RequestApproval', ...command }, command.requestedBy, traceparent);
    if (E.isLeft(decided)) return decided;
    // The request as recorded: a retry after the trade moved on is answered with the version the first one recorded.
    const version = Approvals.versionExpected(decided.right.state.request?.action ?? command.action);
    return E.right({ approvalId: command.approvalId, status: 'PENDING', tradeRef: command.tradeRef, ...(version !== null && { version }), position: decided.right.position });
  }

  async load(approvalId: string): Promise<LoadedApproval> {
    const events = await this.store.readStream(Approvals.approvalStream(approvalId));
    return {
      state: events.reduce((state, event) => Approvals.evolve(state, event.data as Approvals.ApprovalEvent), Approvals.initialApprovalState),
      revision: events.at(-1)?.revision ?? null,
      position: events.at(-1)?.position ?? 0,
    };
  }

  async reject(approvalId: string, by: Actor, reason: string, traceparent?: string): Promise<E.Either<Problem, LoadedApproval>> {
    const decided = await this.decideAndAppend({ type: 'Reject', approvalId, by, reason }, by, traceparent);
    return E.isLeft(decided) ? decided : E.right(await this.load(approvalId));
  }

  /**
   * Approves, then carries the action out unless it already was. A crash between the
   * two leaves the approval approved and not carried out: the checker's retry carries
   * it out, and the action's input id makes sure it happens once.
   */
  async approve(approvalId: string, by: Actor, traceparent?: string): Promise<E.Either<Problem, LoadedApproval>> {
    const decided = await this.decideAndAppend({ type: 'Approve', approvalId, by }, by, traceparent);
    if (E.isLeft(decided)) return decided;
    const approval = await this.load(approvalId);
    const request = approval.state.request!;
    if (approval.state.status !== 'APPROVED') return E.right(approval);
    // A cancellation expects the version its maker saw (as If-Match would): if the trade moved on, it is refused
    // 409 version-conflict, and that answer, kept below, closes the request; the maker asks again for the new version.
    const expected = Approvals.versionExpected(request.action);
    const context = {
      inputId: deterministicId('approval', approvalId),
      actor: request.requestedBy,
      ...(expected !== null && { expectedVersions: [String(expected)] }),
      ...(traceparent !== undefined && { traceparent }),
    };
    const { action } = request;
    const done = action.kind === 'cancel-trade' ? await this.commands.cancelTrade(action.tradeRef, action.reason, context) : await this.commands.resubmit(action.exceptionId, action.line, context);
    const outcome: Approvals.ApprovalOutcome = E.isLeft(done) ? { status: done.left.status, body: done.left } : { status: 201, body: done.right };
    // A server-side failure is not an answer to keep, nor a 421 (the trade is decided by the other slot, which a
    // retry through the gateway reaches): the approval stays approved and a retry carries it out.
    if (E.isLeft(done) && (done.left.status >= 500 || done.left.status === 421)) return E.left(done.left);
    const recorded = await this.decideAndAppend({ type: 'RecordOutcome', approvalId, outcome }, by, traceparent);
    if (E.isLeft(recorded)) return recorded;
    return E.right(await this.load(approvalId));
  }

  /** Decides on the approval as stored and appends what was decided; where it ended, and the approval's state after it. */
  private async decideAndAppend(command: Approvals.ApprovalCommand, actor: Actor, traceparent: string | undefined): Promise<E.Either<Problem, { position: number; state: Approvals.ApprovalState }>> {
    const stream = Approvals.approvalStream(command.approvalId);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const approval = await this.load(command.approvalId);
      const decision = Approvals.decide(command, approval.state);
      if (E.isLeft(decision)) return E.left(approvalProblem(decision.left));
      if (decision.right.length === 0) return E.right({ position: approval.position, state: approval.state });
      const events = decision.right.map((event, index) => ({
        id: deterministicId(stream, (approval.revision ?? -1) + 1 + index),
        type: event.type,
        data: event,
        metadata: { correlationId: event.tradeRef, actor, ...(traceparent !== undefined && { traceparent }) },
      }));
      try {
        const { position } = await this.store.append(stream, events, approval.revision ?? 'no_stream');
        return E.right({ position, state: decision.right.reduce(Approvals.evolve, approval.state) });
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
      }
    }
    return E.left(problem(503, 'busy', 'Too much contention', `approval ${command.approvalId} kept changing; retry`));
  }
}

function approvalProblem(error: Approvals.ApprovalDecisionError): Problem {
  switch (error.code) {
    case 'NOT_FOUND':
      return problem(404, 'not-found', 'Not found', error.message);
    case 'SELF_APPROVAL':
      return problem(403, 'self-approval', 'Four eyes: not your own request', error.message);
    case 'ALREADY_DECIDED':
      return problem(409, 'approval-decided', 'Already decided', error.message);
    case 'ALREADY_REQUESTED':
      return problem(422, 'idempotency-key-reused', 'Idempotency-Key reused', error.message);
    case 'NOT_APPROVED':
      return problem(409, 'approval-not-approved', 'Not approved', error.message);
  }
}
