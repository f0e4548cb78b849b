// HTTP as a client sends it, with a bearer token, and the scope matrix every
// guarded server must pass: generated from the one scope table, so that no route escapes it.
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import type { RouteRule } from '../../authorization/index.js';
import { ALL_SCOPES } from './oidc.js';

export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A concrete path for a route of the table. */
export function pathOf(rule: RouteRule): string {
  return rule.url.replace(/:(\w+)/g, (_m, name: string) => ({ ref: 'MX-1', allocationId: 'A1', id: 'nope', run: 'nope', reconciler: 'trades', cid: 'x' })[name] ?? 'x');
}

export async function call<T = Record<string, unknown>>(base: string, method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer<T>> {
  const response = await fetch(base + path, {
    method,
    headers: {
      ...(options.body !== undefined && { 'content-type': 'application/json' }),
      ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // HTML or text
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

/**
 * Every route of the table: no token is a 401 with a Bearer challenge; a token
 * with every scope but the route's is a 403 naming it; a token with the route's
 * scope alone gets past both.
 */
export async function expectScopeMatrix(base: string, rules: readonly RouteRule[], token: (scopes: readonly string[]) => Promise<string>): Promise<void> {
  const only = new Map<string, string>();
  const allBut = new Map<string, string>();
  for (const scope of ALL_SCOPES) {
    only.set(scope, await token([scope]));
    allBut.set(scope, await token(ALL_SCOPES.filter((s) => s !== scope)));
  }
  const none = await token([]);
  for (const rule of rules) {
    const label = `${rule.method} ${rule.url}`;
    const path = pathOf(rule);
    const body = rule.method === 'GET' || rule.method === 'DELETE' ? undefined : {};
    const anonymous = await call(base, rule.method, path, { body });
    expect(anonymous.status, label).toBe(401);
    expect(anonymous.headers.get('www-authenticate'), label).toMatch(/^Bearer realm="kepler"/);
    expect(anonymous.headers.get('content-type'), label).toMatch(/^application\/problem\+json/);
    if (rule.scope === null) {
      expect([401, 403], label).not.toContain((await call(base, rule.method, path, { token: none, body })).status);
      continue;
    }
    const lacking = await call<{ type: string; scope: string }>(base, rule.method, path, { token: allBut.get(rule.scope)!, body });
    expect(lacking.status, label).toBe(403);
    expect(lacking.body, label).toMatchObject({ type: '/problems/insufficient-scope', scope: rule.scope });
    expect(lacking.headers.get('www-authenticate'), label).toContain(`error="insufficient_scope"`);
    const allowed = await call(base, rule.method, path, { token: only.get(rule.scope)!, body });
    expect([401, 403], `${label}: ${allowed.status} ${JSON.stringify(allowed.body)}`).not.toContain(allowed.status);
  }
}

/**
 * A POST that declares a body larger than the server takes, sending its headers only, and the answer.
 * The server refuses on the declared length and closes the connection; a client still sending the
 * body then meets EPIPE, or a reset that can discard the answer before it is read (on a loaded machine,
 * often), so the refusal is asked for as a client that waits for it would.
 */
export function declareOversizedBody(base: string, path: string, bytes: number, headers: Record<string, string> = {}): Promise<{ status: number; contentType: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(base + path, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(bytes), ...headers } });
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'], body });
      });
    });
    request.on('error', reject);
    request.flushHeaders();
  });
}
