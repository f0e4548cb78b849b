// Trades: per trade reference, the trade decisions (versions applied, pending,
// cancelled, conflicting, rejected after cancellation) and the trade read model.
import { Trade } from '../../domain/index.js';
import { defineReconciler, eventPayloads, ignorePaths, keyEventsBy, sortArrayBy, stripIds, stripPositions } from '../reconciler.js';

export const tradesReconciler = defineReconciler({
  name: 'trades',
  version: '1',
  description: 'Trade decisions and the trade read model, per trade reference.',
  select: { eventTypes: Trade.TRADE_EVENT_TYPES, readModels: ['trades'] },
  normalise: [
    eventPayloads(),
    stripIds(),
    stripPositions(),
    // Where a record sat in which file is the environment's intake, not the trade's behaviour.
    ignorePaths('events[].data.origin.file', 'events[].data.origin.line', 'events[].data.origin.raw', 'events[].data.record.origin'),
    keyEventsBy({
      VersionPending: (d) => d.version as number,
      VersionApplied: (d) => d.version as number,
      TradeCancelled: (d) => d.version as number,
      VersionRejectedAfterCancellation: (d) => d.version as number,
      VersionConflictDetected: (d) => d.version as number,
    }),
    sortArrayBy('docs.trades.allocations', 'allocationId'),
  ],
});
