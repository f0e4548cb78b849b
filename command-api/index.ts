export { registerCommandApi, type CommandApiDependencies } from './routes.js';
export { CommandService, type CommandContext, type CommandOutcome, type CommandResult, type FourEyesNeeded } from './service.js';
export { IdempotencyLedger } from './idempotency.js';
export { ApprovalService, type PendingApproval } from './approvals.js';
