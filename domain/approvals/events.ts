/** Someone who asks or decides: the shape of the event store's Actor, kept here so the domain imports nothing. */
export interface Party {
  subject: string;
  clientId?: string;
  name?: string;
}

/** What a four-eyes request asks to be done, once a second principal approves it. */
export type ApprovalAction =
  | { kind: 'cancel-trade'; tradeRef: string; reason: string }
  | { kind: 'resubmit-line'; exceptionId: string; line: string };

/** The answer the action gave when it was carried out: an HTTP status and body, kept so a retry gets it again. */
export interface ApprovalOutcome {
  status: number;
  body: unknown;
}

export interface ApprovalRequested {
  type: 'ApprovalRequested';
  approvalId: string;
  /** The trade it concerns (the corrected line's trade for a resubmission), for history and correlation. */
  tradeRef: string;
  /** The account it concerns, when known, so only those entitled to it see the request. */
  account: string | null;
  action: ApprovalAction;
  /** The scope a checker needs besides the right to decide: the one the action itself needs. */
  scope: string;
  requestedBy: Party;
}

export interface ApprovalGranted {
  type: 'ApprovalGranted';
  approvalId: string;
  tradeRef: string;
  approvedBy: Party;
}

export interface ApprovalRejected {
  type: 'ApprovalRejected';
  approvalId: string;
  tradeRef: string;
  rejectedBy: Party;
  reason: string;
}

export interface ApprovalCarriedOut {
  type: 'ApprovalCarriedOut';
  approvalId: string;
  tradeRef: string;
  outcome: ApprovalOutcome;
}

export type ApprovalEvent = ApprovalRequested | ApprovalGranted | ApprovalRejected | ApprovalCarriedOut;

export const APPROVAL_EVENT_TYPES: ReadonlyArray<ApprovalEvent['type']> = ['ApprovalRequested', 'ApprovalGranted', 'ApprovalRejected', 'ApprovalCarriedOut'];

export const APPROVAL_STREAM_PREFIX = 'approval-';

export function approvalStream(approvalId: string): string {
  return `${APPROVAL_STREAM_PREFIX}${approvalId}`;
}
