export type { AnyProjection, Projected, ProjectionDefinition } from './projection.js';
export { CATCH_UP_HOLD, ProjectionRunner, checkpointOf, collectionOf, followedFilter, type HoldBounds } from './runner.js';
export { countsCollectionOf, countedValue, readCounts, Tally } from './counts.js';
export type { CountedField } from './projection.js';
export { EventFanOut, type FanOutOptions, type Follow } from './fan-out.js';
export { DROP_GRACE_MS, LiveReadModels } from './generations.js';
export { rebuildProjection, type RebuildProgress } from './rebuild.js';
export { tradesProjection, type TradeStatus, type TradeView } from './trades.js';
export { positionsProjection, positionDeltas, positionKey, type PositionView } from './positions.js';
export { exceptionsProjection, exceptionIdOf, type ExceptionView } from './exceptions.js';
export { approvalsProjection, type ApprovalView } from './approvals.js';
export { feedProjection, feedCountKey, type FeedRecordCount } from './feed.js';

import type { AnyProjection } from './projection.js';
import { approvalsProjection } from './approvals.js';
import { exceptionsProjection } from './exceptions.js';
import { feedProjection } from './feed.js';
import { positionsProjection } from './positions.js';
import { tradesProjection } from './trades.js';

export const PROJECTIONS: readonly AnyProjection[] = [
  tradesProjection as unknown as AnyProjection,
  positionsProjection as unknown as AnyProjection,
  exceptionsProjection as unknown as AnyProjection,
  approvalsProjection as unknown as AnyProjection,
  feedProjection as unknown as AnyProjection,
];
