// The gateway role: routes commands by trade ownership and queries to the live slot.
export { createGateway, FORWARDED_ROUTE, type Gateway, type GatewayOptions, type GatewayStatus } from './server.js';
export { approvalTarget, chooseSlot, commandTarget, type AskedAction, type CommandTarget } from './routing.js';
