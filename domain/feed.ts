// The feed's side of the domain: its values, records, received events, intake
// exceptions and validation, without the trade, booking and approvals decisions
// (nor immutable, which the booking's state is built on). The intake thread
// parses a feed with this alone, so that it is parsing while the writer's thread
// still loads the rest: a second entry of domain/, named in tests/architecture.test.ts.
// domain/index.ts exports all of it too.
export * from './values.js';
export * from './records.js';
export * from './received.js';
export * from './exceptions.js';
export * from './validation.js';
