import { Type, type Static } from '@sinclair/typebox';

// Field limits are those of the CX1 record, so anything the API takes can also be written as a CX1 line.
const text12 = (description: string) => Type.String({ minLength: 1, maxLength: 12, pattern: '^\\S(.*\\S)?$', description });
const Isin = Type.String({ pattern: '^[A-Z]{2}[A-Z0-9]{9}[0-9]$', description: 'ISIN with a valid check digit' });
const Price = Type.String({ pattern: '^\\d{1,10}(\\.\\d{1,8})?$', description: 'decimal string, up to 10 integer and 8 decimal digits; never a float' });
const Quantity = Type.Integer({ minimum: 1, maximum: 999_999_999_999_999 });
const IsoDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
const Reason = Type.String({ maxLength: 40, default: '' });

export const TradeRef = Type.String({ pattern: '^[A-Za-z0-9/-]{1,16}$', description: 'letters, digits, - and /; up to 16' });

export const Terms = Type.Object(
  {
    account: text12('account'),
    isin: Isin,
    side: Type.Union([Type.Literal('BUY'), Type.Literal('SELL')]),
    quantity: Quantity,
    price: Price,
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    tradeDate: IsoDate,
    settleDate: IsoDate,
    counterparty: text12('counterparty'),
  },
  { additionalProperties: false },
);
export type Terms = Static<typeof Terms>;

export const CaptureTradeBody = Type.Composite([Type.Object({ tradeRef: TradeRef }), Terms], { additionalProperties: false });
export type CaptureTradeBody = Static<typeof CaptureTradeBody>;

/** The whole trade as of its next version: the body of a capture, where the trade reference, if sent, must be the path's. */
export const AmendmentBody = Type.Composite([Type.Object({ tradeRef: Type.Optional(TradeRef) }), Terms], { additionalProperties: false });

export const CancellationBody = Type.Object({ reason: Reason }, { additionalProperties: false });
export const AllocationBody = Type.Object(
  { account: text12('account'), quantity: Type.Integer({ minimum: 0, maximum: 999_999_999_999_999, description: '0 withdraws the allocation' }) },
  { additionalProperties: false },
);
export const ConfirmationBody = Type.Object(
  {
    status: Type.Union([Type.Literal('AFFIRMED'), Type.Literal('REJECTED')]),
    quantity: Type.Integer({ minimum: 0, maximum: 999_999_999_999_999 }),
    price: Price,
    reason: Reason,
  },
  { additionalProperties: false },
);
export const ResubmissionBody = Type.Object({ line: Type.String({ minLength: 1, maxLength: 1000, description: 'the corrected 128-character CX1 line' }) }, { additionalProperties: false });

export const RefParams = Type.Object({ ref: TradeRef });
export const AllocationParams = Type.Object({ ref: TradeRef, allocationId: text12('allocation id, as in the ALC record') });
export const ExceptionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const CommandResult = Type.Object({
  tradeRef: Type.String(),
  version: Type.Integer({ description: "the trade's effective version after the command; also the ETag" }),
  position: Type.Integer({ description: 'global position of what the command appended; pass it as minPosition to read your write' }),
});

export const CommandHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  'if-match': Type.Optional(Type.String({ maxLength: 64 })),
});

export const PendingApprovalResult = Type.Object(
  {
    approvalId: Type.String({ description: 'follow it at /approvals/{approvalId} (also the Location header)' }),
    status: Type.Literal('PENDING'),
    tradeRef: Type.String(),
    version: Type.Optional(
      Type.Integer({ description: "a cancellation's: the trade's version when asked, the only one the approval cancels (if the trade moves on first, carrying it out answers 409 version-conflict)" }),
    ),
    position: Type.Integer({ description: 'global position of the recorded request' }),
  },
  { description: 'four eyes: the request waits for a second principal with the scope to approve or reject it' },
);

export const ApprovalParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const PartySchema = Type.Object({ subject: Type.String(), clientId: Type.Optional(Type.String()), name: Type.Optional(Type.String()) });

export const ApprovalDecisionResult = Type.Object({
  approvalId: Type.String(),
  status: Type.Union([Type.Literal('APPROVED'), Type.Literal('REJECTED'), Type.Literal('CARRIED_OUT')]),
  decidedBy: Type.Union([PartySchema, Type.Null()]),
  outcome: Type.Union([
    Type.Object({ status: Type.Integer({ description: 'what carrying the action out answered: 201, or a problem’s status' }), body: Type.Unknown() }),
    Type.Null(),
  ]),
  position: Type.Integer({ description: 'global position of the approval’s last event' }),
});
