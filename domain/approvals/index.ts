export * from './events.js';
export { decide, type ApprovalCommand, type ApprovalDecisionError, type Approve, type RecordOutcome, type Reject, type RequestApproval } from './decide.js';
export { evolve, initialApprovalState, type ApprovalState, type ApprovalStatus } from './state.js';
