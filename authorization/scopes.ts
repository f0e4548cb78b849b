// The one table of who may call what. Every route Kepler serves is in it; the
// security plugin refuses to start a server with a route it does not name, the
// OpenAPI document shows it, and the scope-matrix test is generated from it.

export const SCOPES = {
  'trades:read': 'read trades',
  'trades:write': 'capture and amend trades',
  'trades:cancel': 'cancel trades (a booked one needs a second principal’s approval)',
  'allocations:write': 'allocate a trade',
  'confirmations:write': 'confirm or reject a trade, as the custodian',
  'holds:write': 'place and release holds on a trade’s booking',
  'exceptions:read': 'read rejected lines and trade exceptions',
  'exceptions:resubmit': 'resubmit a rejected line (needs a second principal’s approval)',
  'positions:read': 'read positions',
  'approvals:read': 'see four-eyes requests',
  'approvals:decide': 'approve or reject another principal’s four-eyes request (with the scope of what it asks for)',
  'regression:read': 'read PROD-vs-UAT regression runs and reports',
  'gateway:read': 'see the gateway’s routing: the live slot, the slots’ addresses and what was forwarded to each',
} as const;

export type Scope = keyof typeof SCOPES;

/** `null`: any valid token will do (the platform's status, the API documentation). */
export type RouteScope = Scope | null;

export interface RouteRule {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The route as fastify declares it. */
  url: string;
  scope: RouteScope;
}

export const ROUTE_SCOPES: readonly RouteRule[] = [
  { method: 'GET', url: '/status', scope: null },
  // The gateway's own: it names the slots' internal addresses, so not for every client with a token.
  { method: 'GET', url: '/gateway/status', scope: 'gateway:read' },
  // Public by default (auth.publicPaths); an operator who takes them off the list wants a valid token, no more.
  { method: 'GET', url: '/health/live', scope: null },
  { method: 'GET', url: '/health/ready', scope: null },
  { method: 'GET', url: '/metrics', scope: null },
  { method: 'GET', url: '/trades', scope: 'trades:read' },
  { method: 'GET', url: '/trades/:ref', scope: 'trades:read' },
  { method: 'GET', url: '/positions', scope: 'positions:read' },
  { method: 'GET', url: '/exceptions', scope: 'exceptions:read' },
  { method: 'GET', url: '/exceptions/counts', scope: 'exceptions:read' },
  { method: 'POST', url: '/trades', scope: 'trades:write' },
  { method: 'POST', url: '/trades/:ref/amendments', scope: 'trades:write' },
  { method: 'POST', url: '/trades/:ref/cancellation', scope: 'trades:cancel' },
  { method: 'PUT', url: '/trades/:ref/allocations/:allocationId', scope: 'allocations:write' },
  { method: 'POST', url: '/trades/:ref/confirmations', scope: 'confirmations:write' },
  { method: 'PUT', url: '/trades/:ref/hold', scope: 'holds:write' },
  { method: 'DELETE', url: '/trades/:ref/hold', scope: 'holds:write' },
  { method: 'POST', url: '/exceptions/:id/resubmission', scope: 'exceptions:resubmit' },
  { method: 'GET', url: '/approvals', scope: 'approvals:read' },
  { method: 'GET', url: '/approvals/:id', scope: 'approvals:read' },
  { method: 'POST', url: '/approvals/:id/approval', scope: 'approvals:decide' },
  { method: 'POST', url: '/approvals/:id/rejection', scope: 'approvals:decide' },
  { method: 'GET', url: '/regression/runs', scope: 'regression:read' },
  { method: 'GET', url: '/regression/runs/:run', scope: 'regression:read' },
  { method: 'GET', url: '/regression/runs/:run/verdicts', scope: 'regression:read' },
  { method: 'GET', url: '/regression/runs/:run/verdicts/:reconciler/:cid', scope: 'regression:read' },
  { method: 'GET', url: '/regression/runs/:run/signatures', scope: 'regression:read' },
  { method: 'GET', url: '/regression/runs/:run/signatures/pairs', scope: 'regression:read' },
  { method: 'GET', url: '/regression/runs/:run/report.html', scope: 'regression:read' },
];

/** The API documentation (Swagger UI and the OpenAPI document) needs a valid token, no scope. */
export const DOCS_PREFIX = '/docs';

const byRoute = new Map(ROUTE_SCOPES.map((rule) => [`${rule.method} ${rule.url}`, rule.scope]));

/**
 * The scope a route needs; undefined for a route the table does not name. HEAD
 * is GET without a body, so it needs what GET needs.
 */
export function scopeOf(method: string, url: string): RouteScope | undefined {
  const asked = method === 'HEAD' ? 'GET' : method;
  const rule = byRoute.get(`${asked} ${url}`);
  if (rule !== undefined) return rule;
  if (url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`)) return null;
  return undefined;
}

/**
 * The scopes of what operators do with the CLI rather than over HTTP: blue/green
 * operations and the release pipeline. With authentication configured, each of
 * these commands needs an access token (KEPLER_TOKEN) with its scope, and the
 * actor it records is the token's principal. Apart from the route scopes: no
 * route grants them, and no API client needs them.
 */
export const OPERATION_SCOPES = {
  'slots:operate': 'cut over, roll back and drain blue/green slots; apply the RabbitMQ topology',
  'releases:cut': 'initialise the release pipeline and cut release candidates',
  'releases:promote': 'promote a candidate, cut an environment over to it, record it verified, roll back',
  'releases:approve': 'approve a candidate for an environment (never one the same principal cut)',
  'releases:restrict': 'freeze environments, veto candidates, pin environments (and lift them)',
} as const;

export type OperationScope = keyof typeof OPERATION_SCOPES;

export interface OperationRule {
  /** The CLI command, as `kepler <operation>` runs it. */
  operation: string;
  scope: OperationScope;
}

export const OPERATIONS: readonly OperationRule[] = [
  { operation: 'slot cutover', scope: 'slots:operate' },
  { operation: 'slot live', scope: 'slots:operate' },
  { operation: 'slot rollback', scope: 'slots:operate' },
  { operation: 'slot drain', scope: 'slots:operate' },
  { operation: 'topology apply', scope: 'slots:operate' },
  { operation: 'pipeline init', scope: 'releases:cut' },
  { operation: 'release cut', scope: 'releases:cut' },
  { operation: 'promote', scope: 'releases:promote' },
  { operation: 'rollback', scope: 'releases:promote' },
  { operation: 'approve', scope: 'releases:approve' },
  { operation: 'freeze', scope: 'releases:restrict' },
  { operation: 'veto', scope: 'releases:restrict' },
  { operation: 'pin', scope: 'releases:restrict' },
];

const byOperation = new Map(OPERATIONS.map((rule) => [rule.operation, rule.scope]));

/** The scope an operation needs; undefined for a command that records nothing (a status, a plan, a check). */
export function operationScope(operation: string): OperationScope | undefined {
  return byOperation.get(operation);
}
