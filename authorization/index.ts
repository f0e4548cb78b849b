// Authorization: the one table of scopes per route, the accounts a principal is
// entitled to, and the fastify plugin that guards every route with both.
export {
  DOCS_PREFIX,
  OPERATION_SCOPES,
  OPERATIONS,
  operationScope,
  ROUTE_SCOPES,
  SCOPES,
  scopeOf,
  type OperationRule,
  type OperationScope,
  type RouteRule,
  type RouteScope,
  type Scope,
} from './scopes.js';
export { accountsWhere, entitlementsOf, isEntitled } from './entitlements.js';
export { logSecurityEvent, operationSecurity, refuseAccount, refuseScope, registerSecurity, securitySchemes, type SecurityOptions } from './plugin.js';
