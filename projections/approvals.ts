import type { Approvals } from '../domain/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { Projected, ProjectionDefinition } from './projection.js';

/** A four-eyes request as the approvals list shows it. */
export interface ApprovalView extends Projected {
  id: string;
  status: Exclude<Approvals.ApprovalStatus, 'NONE'>;
  tradeRef: string;
  account: string | null;
  action: Approvals.ApprovalAction;
  scope: string;
  requestedBy: Approvals.Party;
  requestedAt: string;
  decidedBy: Approvals.Party | null;
  decidedAt: string | null;
  reason: string | null;
  outcome: Approvals.ApprovalOutcome | null;
}

export const approvalsProjection: ProjectionDefinition<ApprovalView> = {
  name: 'approvals',
  indexes: ['status', 'account'],
  filter: { eventTypes: ['ApprovalRequested', 'ApprovalGranted', 'ApprovalRejected', 'ApprovalCarriedOut'] },
  keysOf: (event: RecordedEvent) => [(event.data as Approvals.ApprovalEvent).approvalId],
  apply(doc, event, id) {
    const data = event.data as Approvals.ApprovalEvent;
    const at = event.recordedAt.toISOString();
    if (data.type === 'ApprovalRequested') {
      const { tradeRef, account, action, scope, requestedBy } = data;
      return doc ?? { id, status: 'PENDING', tradeRef, account, action, scope, requestedBy, requestedAt: at, decidedBy: null, decidedAt: null, reason: null, outcome: null };
    }
    if (!doc) return null;
    switch (data.type) {
      case 'ApprovalGranted':
        return { ...doc, status: 'APPROVED', decidedBy: data.approvedBy, decidedAt: at };
      case 'ApprovalRejected':
        return { ...doc, status: 'REJECTED', decidedBy: data.rejectedBy, decidedAt: at, reason: data.reason };
      case 'ApprovalCarriedOut':
        return { ...doc, status: 'CARRIED_OUT', outcome: data.outcome };
    }
  },
};
