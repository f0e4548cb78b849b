import { Type, type Static } from '@sinclair/typebox';
import { EXCEPTION_CODES } from '../domain/index.js';

// Any reference can be asked for: one that cannot exist is simply not found (404), as the contract says.
export const TradeRefParam = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 500 }) });

export const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'page size' });
export const Cursor = Type.String({ minLength: 1, maxLength: 200, description: 'nextCursor of the previous page' });
export const MinPosition = Type.Integer({ minimum: 0, description: 'answer only once the read model reflects this global position' });

export const TradeStatus = Type.Union([Type.Literal('AWAITING_TRADE'), Type.Literal('PENDING'), Type.Literal('BOOKED'), Type.Literal('CANCELLED')]);

export const TradesQuery = Type.Object({
  status: Type.Optional(TradeStatus),
  account: Type.Optional(Type.String({ minLength: 1, maxLength: 12 })),
  isin: Type.Optional(Type.String({ pattern: '^[A-Z]{2}[A-Z0-9]{9}[0-9]$' })),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor),
  minPosition: Type.Optional(MinPosition),
});
export type TradesQuery = Static<typeof TradesQuery>;

export const PositionsQuery = Type.Object({
  account: Type.Optional(Type.String({ minLength: 1, maxLength: 12 })),
  isin: Type.Optional(Type.String({ pattern: '^[A-Z]{2}[A-Z0-9]{9}[0-9]$' })),
  minPosition: Type.Optional(MinPosition),
});
export type PositionsQuery = Static<typeof PositionsQuery>;

export const ExceptionCode = Type.Union(EXCEPTION_CODES.map((code) => Type.Literal(code)));

export const ExceptionsQuery = Type.Object({
  code: Type.Optional(ExceptionCode),
  file: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor),
  minPosition: Type.Optional(MinPosition),
});
export type ExceptionsQuery = Static<typeof ExceptionsQuery>;

export const ApprovalsQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('PENDING'), Type.Literal('APPROVED'), Type.Literal('REJECTED'), Type.Literal('CARRIED_OUT')])),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor),
  minPosition: Type.Optional(MinPosition),
});

export const ApprovalIdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const ConsistencyQuery = Type.Object({ minPosition: Type.Optional(MinPosition) });
export type ConsistencyQuery = Static<typeof ConsistencyQuery>;

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

/** The trade as the API shows it; also lets fastify serialise it without reflection. */
export const TradeSchema = Type.Object({
  tradeRef: Type.String(),
  status: TradeStatus,
  version: Type.Integer(),
  pendingVersions: Type.Array(Type.Integer()),
  bookedVersion: Type.Union([Type.Integer(), Type.Null()]),
  account: Nullable(Type.String()),
  isin: Nullable(Type.String()),
  side: Type.Union([Type.Literal('BUY'), Type.Literal('SELL'), Type.Null()]),
  quantity: Type.Union([Type.Integer(), Type.Null()]),
  price: Nullable(Type.String()),
  currency: Nullable(Type.String()),
  tradeDate: Nullable(Type.String()),
  settleDate: Nullable(Type.String()),
  counterparty: Nullable(Type.String()),
  allocations: Type.Array(Type.Object({ allocationId: Type.String(), account: Type.String(), quantity: Type.Integer() })),
  confirmation: Type.Union([
    Type.Object({ status: Type.Union([Type.Literal('AFFIRMED'), Type.Literal('REJECTED')]), quantity: Type.Integer(), price: Type.String(), reason: Type.String() }),
    Type.Null(),
  ]),
  onHold: Type.Boolean(),
  lastChangedBy: Type.Union([
    Type.Object({ subject: Type.String(), clientId: Type.Optional(Type.String()), name: Type.Optional(Type.String()) }, { description: 'who made the last change through the API; null when a feed did' }),
    Type.Null(),
  ]),
});

/** A position's signed quantity: a JSON integer, exact even past 2^53 (it is serialised from a bigint). */
const PositionQuantity = Type.Unsafe<bigint>({ type: 'integer', description: 'signed: negative for a net sale' });

export const PositionsSchema = Type.Object({
  items: Type.Array(Type.Object({ account: Type.String(), isin: Type.String(), quantity: PositionQuantity })),
});
