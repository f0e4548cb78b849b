export { ProcessorRunner, type ProcessorDefinition, type ProcessorOptions, type ProcessorStatus } from './processor.js';
export { tradeProcessor } from './trade-processor.js';
export { bookingManager } from './booking-manager.js';
export { owns, parsePartition, partitionedName, WHOLE, type Partition } from './partition.js';
