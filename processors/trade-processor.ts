import { Trade, VERSION_RECEIVED_TYPES, type VersionReceived } from '../domain/index.js';
import type { RecordedEvent } from '../eventstore/index.js';
import type { ProcessorDefinition } from './processor.js';

/** Applies every received TRD, AMD and CXL to its trade aggregate, in global order. */
export const tradeProcessor: ProcessorDefinition<Trade.TradeState, Trade.TradeEvent, Trade.TradeCommand> = {
  name: 'trade-processor',
  streamPrefix: 'trade-',
  filter: { eventTypes: VERSION_RECEIVED_TYPES },
  route(event: RecordedEvent) {
    if (!VERSION_RECEIVED_TYPES.includes(event.type as never)) return null;
    const { record, origin } = event.data as VersionReceived;
    return {
      stream: Trade.tradeStream(record.tradeRef),
      input: { type: 'ReceiveVersion', inputId: event.id, record, origin },
    };
  },
  initialState: Trade.initialTradeState,
  // A trade's versions arrive close together (an amendment or cancellation follows its trade within
  // the file, or comes as a command): a state is rarely wanted again once the next thousands of
  // trades have gone by, and reading one again is one short stream. Each state holds every version's
  // record, so keeping 200,000 of them cost hundreds of MB for nothing.
  cacheSize: 5_000,
  evolve: Trade.evolve,
  decide: Trade.decide,
};
