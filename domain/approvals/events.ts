/** Someone who asks or decides: the shape of the event store's Actor, kept here so the domain imports nothing. */
export interface Party {
  subject: string;
  clientId?: string;
  name?: string;
}

/** Cancelling a trade, as the maker saw it. */
export interface CancelTradeAction {
  kind: 'cancel-trade';
  tradeRef: string;
  reason: string;
  /**
   * The trade's effective version when the maker asked: the one both principals
   * look at, and so the only one the approval may cancel. Absent in a request
   * recorded before versions were: the version its maker saw was never written
   * down and cannot be known now, so such a request is carried out as it was when
   * recorded, with no check (refusing them instead would close every request pending
   * at the upgrade, for no fault of its maker or checker).
   */
  version?: number;
}

/** What a four-eyes request asks to be done, once a second principal approves it. */
export type ApprovalAction = CancelTradeAction | { kind: 'resubmit-line'; exceptionId: string; line: string };

/** The trade version carrying the action out must find (else it is refused), or null when there is none to check (see CancelTradeAction.version). */
export function versionExpected(action: ApprovalAction): number | null {
  return action.kind === 'cancel-trade' ? (action.version ?? null) : null;
}

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
