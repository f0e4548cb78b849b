// The domain: pure values, records, decisions and their events. No I/O here.
export * from './values.js';
export * from './records.js';
export * from './received.js';
export * from './exceptions.js';
export * as Trade from './trade/index.js';
export * as Booking from './booking/index.js';
export * as Approvals from './approvals/index.js';
export * from './validation.js';
