import * as E from 'fp-ts/lib/Either.js';
import type { ApprovalAction, ApprovalEvent, ApprovalOutcome, ApprovalRequested, Party } from './events.js';
import type { ApprovalState } from './state.js';

/** Asks for what the request event then records. */
export interface RequestApproval extends Omit<ApprovalRequested, 'type'> {
  type: 'RequestApproval';
}

export interface Approve {
  type: 'Approve';
  approvalId: string;
  by: Party;
}

export interface Reject {
  type: 'Reject';
  approvalId: string;
  by: Party;
  reason: string;
}

/** The approved action was carried out and answered so. */
export interface RecordOutcome {
  type: 'RecordOutcome';
  approvalId: string;
  outcome: ApprovalOutcome;
}

export type ApprovalCommand = RequestApproval | Approve | Reject | RecordOutcome;

export interface ApprovalDecisionError {
  code: 'NOT_FOUND' | 'SELF_APPROVAL' | 'ALREADY_DECIDED' | 'NOT_APPROVED' | 'ALREADY_REQUESTED';
  message: string;
}

/**
 * Maker–checker: a request stands pending until a principal other than its maker
 * approves or rejects it. Deciding again what one has already decided is
 * answered with no events (a retry); deciding what another has decided is refused.
 */
export function decide(command: ApprovalCommand, state: ApprovalState): E.Either<ApprovalDecisionError, ApprovalEvent[]> {
  const { approvalId } = command;
  if (command.type === 'RequestApproval') {
    if (state.request === null) {
      const { tradeRef, account, action, scope, requestedBy } = command;
      return E.right([{ type: 'ApprovalRequested', approvalId, tradeRef, account, action, scope, requestedBy }]);
    }
    // The same maker asking the same again is a retry (its approval id comes from its Idempotency-Key).
    const same = state.request.requestedBy.subject === command.requestedBy.subject && sameAsk(state.request.action, command.action);
    return same ? E.right([]) : E.left({ code: 'ALREADY_REQUESTED', message: `approval ${approvalId} already exists for another request` });
  }
  const request = state.request;
  if (request === null) return E.left({ code: 'NOT_FOUND', message: `approval ${approvalId} does not exist` });
  const { tradeRef } = request;
  switch (command.type) {
    case 'Approve':
    case 'Reject': {
      if (command.by.subject === request.requestedBy.subject) {
        return E.left({ code: 'SELF_APPROVAL', message: `approval ${approvalId} was requested by ${request.requestedBy.subject}, who cannot decide it too` });
      }
      const wanted = command.type === 'Approve' ? 'APPROVED' : 'REJECTED';
      // Approved and not carried out yet: the checker's request was lost between the two. Approving
      // again decides nothing new (the approval stands, by whoever gave it); it only lets the action be
      // carried out, which any principal entitled to decide may finish, not only the one who decided.
      if (command.type === 'Approve' && state.status === 'APPROVED') return E.right([]);
      if (state.status !== 'PENDING') {
        const decidedByThem = state.decidedBy?.subject === command.by.subject && (state.status === wanted || (wanted === 'APPROVED' && state.status === 'CARRIED_OUT'));
        if (decidedByThem) return E.right([]);
        return E.left({ code: 'ALREADY_DECIDED', message: `approval ${approvalId} is already ${state.status.toLowerCase().replace('_', ' ')}${state.decidedBy ? ` by ${state.decidedBy.subject}` : ''}` });
      }
      return E.right([
        command.type === 'Approve'
          ? { type: 'ApprovalGranted', approvalId, tradeRef, approvedBy: command.by }
          : { type: 'ApprovalRejected', approvalId, tradeRef, rejectedBy: command.by, reason: command.reason },
      ]);
    }
    case 'RecordOutcome':
      if (state.status === 'CARRIED_OUT') return E.right([]);
      if (state.status !== 'APPROVED') return E.left({ code: 'NOT_APPROVED', message: `approval ${approvalId} is ${state.status.toLowerCase()}, not approved` });
      return E.right([{ type: 'ApprovalCarriedOut', approvalId, tradeRef, outcome: command.outcome }]);
  }
}

/**
 * Whether two requests ask the same thing. The trade version is left out: a retry
 * (after a crash, say) made once the trade has moved on names the same request, and
 * the version that request recorded stands, as the first answer would have told.
 */
function sameAsk(recorded: ApprovalAction, asked: ApprovalAction): boolean {
  if (recorded.kind === 'cancel-trade' && asked.kind === 'cancel-trade') return recorded.tradeRef === asked.tradeRef && recorded.reason === asked.reason;
  if (recorded.kind === 'resubmit-line' && asked.kind === 'resubmit-line') return recorded.exceptionId === asked.exceptionId && recorded.line === asked.line;
  return false;
}
