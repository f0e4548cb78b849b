// Hostile input to every route of the APIs: random JSON bodies, path parameters,
// query strings and command headers. Whatever arrives, the answer is never a 5xx
// (a refusal is a 4xx problem document), with authentication, entitlements and
// four eyes on.
import { join } from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config.js';
import { startPlatform, type RunningPlatform } from '../../app/serve.js';
import { ROUTE_SCOPES } from '../../authorization/index.js';
import { tempDir } from '../support/feed.js';
import { AUDIENCE, TestIdentityProvider } from '../support/oidc.js';

// The APIs' routes: not regress-serve's, and not /metrics (Prometheus text, no input to speak of).
const SERVE_ROUTES = ROUTE_SCOPES.filter((rule) => !rule.url.startsWith('/regression/') && rule.url !== '/metrics');

describe('the APIs under random input', () => {
  let idp: TestIdentityProvider;
  let running: RunningPlatform;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    idp = await TestIdentityProvider.start([{ id: 'everything', accounts: ['*'] }, { id: 'one-desk', accounts: ['ACC-1'] }]);
    tokens.everything = await idp.token('everything');
    tokens.desk = await idp.token('one-desk');
    const base = loadConfig({ dataDir: join(tempDir(), 'data') }, { KEPLER_PROJECTIONS_THREAD: '0', KEPLER_AUTH_ISSUER: idp.issuer, KEPLER_AUTH_AUDIENCE: AUDIENCE, KEPLER_RATE_LIMIT: '0', KEPLER_READ_YOUR_WRITES_TIMEOUT_MS: '20' });
    running = await startPlatform({ ...base, http: { ...base.http, host: '127.0.0.1', port: 0 } }, pino({ level: 'silent' }));
    // Something for the routes to find: a trade of each kind of principal.
    for (const [ref, account] of [['P-1', 'ACC-1'], ['P-2', 'ACC-2']]) {
      await fetch(`${running.url}/trades`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.everything}` },
        body: JSON.stringify({ tradeRef: ref, account, isin: 'US0378331005', side: 'BUY', quantity: 10, price: '1.5', currency: 'USD', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'C' }),
      });
    }
  });
  afterAll(async () => {
    await running?.stop();
    await idp?.stop();
  });

  it('never answers a 5xx, whatever the body, path, query string and headers', async () => {
    const segment = fc.oneof(fc.constantFrom('P-1', 'P-2', 'NOPE', '%2F', '%ZZ', '..', ''), fc.string({ maxLength: 20 }).map(encodeURIComponent), fc.string({ unit: 'grapheme', maxLength: 8 }));
    const query = fc.dictionary(fc.constantFrom('status', 'account', 'isin', 'limit', 'cursor', 'minPosition', 'code', 'file', 'x'), fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String)), { maxKeys: 4 });
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({ tradeRef: fc.string({ maxLength: 20 }), account: fc.string({ maxLength: 14 }), quantity: fc.oneof(fc.integer(), fc.double()), price: fc.oneof(fc.string({ maxLength: 20 }), fc.double()), reason: fc.string({ maxLength: 50 }), line: fc.string({ maxLength: 140 }), status: fc.constantFrom('AFFIRMED', 'REJECTED', 'x') }, { requiredKeys: [] }),
    );
    const headers = fc.record({ 'idempotency-key': fc.string({ minLength: 1, maxLength: 30 }), 'if-match': fc.string({ maxLength: 20 }), 'kepler-min-position': fc.constantFrom('0', '1', 'x', '-1') }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SERVE_ROUTES), fc.array(segment, { minLength: 3, maxLength: 3 }), query, fc.option(body), headers, fc.constantFrom('everything', 'desk'), async (rule, segments, params, json, extra, who) => {
        let i = 0;
        const path = rule.url.replace(/:\w+/g, () => segments[i++] ?? 'x');
        const search = new URLSearchParams(params as Record<string, string>).toString();
        const sendsBody = rule.method !== 'GET' && json !== null;
        const response = await fetch(`${running.url}${path}${search ? `?${search}` : ''}`, {
          method: rule.method,
          headers: {
            authorization: `Bearer ${tokens[who]}`,
            ...Object.fromEntries(Object.entries(extra).filter(([, v]) => /^[\x20-\x7e]*$/.test(v as string))),
            ...(sendsBody && { 'content-type': 'application/json' }),
          },
          ...(sendsBody && { body: JSON.stringify(json) }),
        });
        const text = await response.text();
        const what = `${rule.method} ${path}?${search} ${JSON.stringify(json)} → ${text.slice(0, 300)}`;
        // The one 5xx that is an answer, not a failure: a minPosition the read model has not reached (documented, with Retry-After).
        if (response.status === 503 && (JSON.parse(text) as { type: string }).type === '/problems/not-caught-up') {
          expect(response.headers.get('retry-after'), what).toBe('1');
          return;
        }
        expect(response.status, what).toBeLessThan(500);
        expect(response.headers.get('content-type'), what).toMatch(/^application\/(problem\+)?json/);
      }),
      { numRuns: 400 },
    );
  }, 120_000);
});
