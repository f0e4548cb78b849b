import type { ApprovalEvent, ApprovalOutcome, ApprovalRequested, Party } from './events.js';

export type ApprovalStatus = 'NONE' | 'PENDING' | 'APPROVED' | 'REJECTED' | 'CARRIED_OUT';

export interface ApprovalState {
  status: ApprovalStatus;
  request: Omit<ApprovalRequested, 'type'> | null;
  decidedBy: Party | null;
  outcome: ApprovalOutcome | null;
}

export const initialApprovalState: ApprovalState = { status: 'NONE', request: null, decidedBy: null, outcome: null };

export function evolve(state: ApprovalState, event: ApprovalEvent): ApprovalState {
  switch (event.type) {
    case 'ApprovalRequested': {
      const { type: _type, ...request } = event;
      return { ...state, status: 'PENDING', request };
    }
    case 'ApprovalGranted':
      return { ...state, status: 'APPROVED', decidedBy: event.approvedBy };
    case 'ApprovalRejected':
      return { ...state, status: 'REJECTED', decidedBy: event.rejectedBy };
    case 'ApprovalCarriedOut':
      return { ...state, status: 'CARRIED_OUT', outcome: event.outcome };
  }
}
