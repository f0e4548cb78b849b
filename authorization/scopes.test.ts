import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPERATION_SCOPES, OPERATIONS, operationScope, ROUTE_SCOPES, SCOPES, scopeOf } from './index.js';

describe('the scope table', () => {
  it('names each route once, with a scope Kepler defines (or none: any valid token)', () => {
    const keys = ROUTE_SCOPES.map((r) => `${r.method} ${r.url}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const rule of ROUTE_SCOPES) if (rule.scope !== null) expect(Object.keys(SCOPES)).toContain(rule.scope);
  });

  it('has at least the scopes the issue asks for, each used by a route', () => {
    const asked = ['trades:read', 'trades:write', 'trades:cancel', 'allocations:write', 'confirmations:write', 'holds:write', 'exceptions:read', 'exceptions:resubmit', 'positions:read', 'regression:read'];
    const used = new Set(ROUTE_SCOPES.map((r) => r.scope));
    for (const scope of asked) expect(used, scope).toContain(scope);
    for (const scope of Object.keys(SCOPES)) expect(used, `${scope} is defined but no route needs it`).toContain(scope);
  });

  it('answers HEAD as GET, the documentation with any valid token, and nothing for a route it does not know', () => {
    expect(scopeOf('GET', '/trades/:ref')).toBe('trades:read');
    expect(scopeOf('HEAD', '/trades/:ref')).toBe('trades:read');
    expect(scopeOf('POST', '/trades/:ref/cancellation')).toBe('trades:cancel');
    expect(scopeOf('GET', '/docs/json')).toBeNull();
    expect(scopeOf('GET', '/docs')).toBeNull();
    expect(scopeOf('GET', '/docsx')).toBeUndefined();
    expect(scopeOf('DELETE', '/trades')).toBeUndefined();
  });
});

describe('the operations table', () => {
  it('names each CLI operation once, with an operation scope, each used; none is a route scope', () => {
    const names = OPERATIONS.map((o) => o.operation);
    expect(new Set(names).size).toBe(names.length);
    const used = new Set(OPERATIONS.map((o) => o.scope));
    expect([...used].sort()).toEqual(Object.keys(OPERATION_SCOPES).sort());
    for (const scope of Object.keys(OPERATION_SCOPES)) expect(Object.keys(SCOPES)).not.toContain(scope);
    expect(operationScope('approve')).toBe('releases:approve');
    expect(operationScope('slot status')).toBeUndefined();
  });
});

describe('the README', () => {
  it('shows the scope table as it is in code', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('<!-- scopes:begin -->'), readme.indexOf('<!-- scopes:end -->'));
    const rows = [...table.matchAll(/^\| `(\w+) ([^`]+)` \| (?:`([^`]+)`|any valid token) \|$/gm)].map((m) => ({ method: m[1], url: m[2], scope: m[3] ?? null }));
    expect(rows).toEqual(ROUTE_SCOPES.map(({ method, url, scope }) => ({ method, url, scope })));
  });

  it('shows the operations table as it is in code', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('<!-- operations:begin -->'), readme.indexOf('<!-- operations:end -->'));
    const rows = [...table.matchAll(/^\| `kepler ([^`]+)` \| `([^`]+)` \|$/gm)].map((m) => ({ operation: m[1], scope: m[2] }));
    expect(rows).toEqual(OPERATIONS.map(({ operation, scope }) => ({ operation, scope })));
  });
});
