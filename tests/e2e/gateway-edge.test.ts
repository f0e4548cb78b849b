// The gateway as the platform's edge, from outside: `kepler serve --roles gateway` in
// front of a slot (`kepler serve`), both with a real OpenID provider (oidc-provider) in
// this process. Between the gateway and the slot sits a counting relay, so a test can
// say that a refused request never reached the slot.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/feed.js';
import { call } from '../support/http.js';
import { KeplerServer, runCli } from '../support/kepler.js';
import { ALL_SCOPES, AUDIENCE, TestIdentityProvider } from '../support/oidc.js';

/** Requests the slot was sent through the relay. */
class CountingRelay {
  seen: string[] = [];
  private constructor(private readonly server: Server, readonly url: string) {}

  static async start(target: string): Promise<CountingRelay> {
    const upstream = new URL(target);
    let relay!: CountingRelay;
    const server = createServer((req, res) => {
      relay.seen.push(`${req.method} ${req.url}`);
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => res.writeHead(502).end());
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    relay = new CountingRelay(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return relay;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const TRADE = { isin: 'US0378331005', side: 'BUY', quantity: 100, price: '10.50', currency: 'USD', tradeDate: '2026-11-27', settleDate: '2026-11-30', counterparty: 'CPTY-1', account: 'ACC-1' };
const RATE_LIMIT = 12;

describe('the gateway is the edge: tokens, rate limit, metrics and health', () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  let idp: TestIdentityProvider;
  let slot: KeplerServer;
  let relay: CountingRelay;
  let gateway: KeplerServer;
  const issued: string[] = [];
  const token = async (client: string, scopes?: readonly string[]) => {
    const t = await idp.token(client, scopes);
    issued.push(t);
    return t;
  };
  const head = async () => (await slot.json<{ head: number }>('/status')).head;

  beforeAll(async () => {
    idp = await TestIdentityProvider.start([
      { id: 'ops', accounts: ['*'], name: 'Operations' },
      { id: 'capture', accounts: ['*'] },
      { id: 'burst', accounts: ['*'] },
    ]);
    const auth = { KEPLER_AUTH_ISSUER: idp.issuer, KEPLER_AUTH_AUDIENCE: AUDIENCE };
    slot = await KeplerServer.start(dataDir, { env: auth });
    slot.authorize = () => idp.token('ops');
    relay = await CountingRelay.start(slot.url);
    gateway = await KeplerServer.start(dataDir, {
      env: { ...auth, KEPLER_GATEWAY_BLUE_URL: relay.url, KEPLER_RATE_LIMIT: String(RATE_LIMIT) },
      args: ['--roles', 'gateway'],
    });
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await relay?.stop();
    await slot?.stop();
    await idp?.stop();
  });

  it('refuses a command without a token, or with an expired or forged one, before it reaches a slot: nothing is appended', async () => {
    const before = await head();
    const now = Math.floor(Date.now() / 1000);
    const { generateKeyPair } = await import('jose');
    const stranger = await generateKeyPair('RS256');
    const cases: Array<[string, Record<string, string>]> = [
      ['no token', {}],
      ['expired', { authorization: `Bearer ${await idp.forge({ exp: now - 120, sub: 'ops' })}` }],
      ['signed by another key', { authorization: `Bearer ${await idp.forge({ sub: 'ops' }, { key: stranger.privateKey })}` }],
      ['wrong audience', { authorization: `Bearer ${await idp.forge({ aud: 'https://someone-else.example' })}` }],
      ['not a bearer token', { authorization: 'Basic b3BzOnNlY3JldA==' }],
    ];
    for (const [label, headers] of cases) {
      const answer = await call<{ type: string; detail: string }>(gateway.url, 'POST', '/trades', { body: { ...TRADE, tradeRef: `GW-${label.replace(/\W/g, '')}` }, headers });
      expect(answer.status, label).toBe(401);
      expect(answer.headers.get('www-authenticate'), label).toMatch(/^Bearer realm="kepler"/);
      if (label !== 'no token') expect(answer.headers.get('www-authenticate'), label).toContain('error="invalid_token"');
      expect(answer.headers.get('content-type'), label).toMatch(/^application\/problem\+json/);
      expect(answer.headers.get('kepler-slot'), label).toBeNull();
      expect(answer.body.detail, label).not.toMatch(/signature|key|kid|audience|issuer/i);
    }
    expect(relay.seen).toEqual([]);
    expect(await head()).toBe(before);
    expect(gateway.logs).toMatch(/"security":\{"outcome":"refused","status":401,"reason":"no bearer token","method":"POST","route":"\/\*"/);
    expect(gateway.logs).toMatch(/"reason":"signature verification failed"/);
    expect(gateway.logs).toMatch(/"reason":"expired"/);
  });

  it('forwards a valid token with its Authorization header: the slot answers, verifies again and applies the scope', async () => {
    const before = await head();
    const captured = await call<{ tradeRef: string }>(gateway.url, 'POST', '/trades', { token: await token('capture'), body: { ...TRADE, tradeRef: 'GW-1' } });
    expect(captured.status, JSON.stringify(captured.body)).toBe(201);
    expect(captured.headers.get('kepler-slot')).toBe('blue');
    expect(relay.seen).toEqual(['POST /trades']);
    expect(await head()).toBeGreaterThan(before);

    // The gateway checks who; the slot checks what: a valid token without trades:write gets the slot's 403.
    const lacking = await call<{ type: string; scope: string }>(gateway.url, 'POST', '/trades', { token: await token('capture', ['trades:read']), body: { ...TRADE, tradeRef: 'GW-2' } });
    expect(lacking.status).toBe(403);
    expect(lacking.body).toMatchObject({ type: '/problems/insufficient-scope', scope: 'trades:write' });
    expect(lacking.headers.get('kepler-slot')).toBe('blue');
    expect(relay.seen).toHaveLength(2);

    // Queries go to the live slot, query string and all; a path no table names is the slot's 404.
    const read = await call<{ items: Array<{ tradeRef: string }> }>(gateway.url, 'GET', '/trades?account=ACC-1&minPosition=1', { token: await token('capture') });
    expect(read.status).toBe(200);
    expect(read.body.items.map((t) => t.tradeRef)).toContain('GW-1');
    expect(relay.seen[2]).toBe('GET /trades?account=ACC-1&minPosition=1');
    const unknown = await call<{ type: string }>(gateway.url, 'GET', '/nowhere', { token: await token('capture') });
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe('/problems/no-such-route');
    expect((await call(gateway.url, 'GET', '/nowhere')).status).toBe(401);
  });

  it('sends every request to a slot, never to a host its path names (a path that begins with //)', async () => {
    const bait: string[] = [];
    const elsewhere = createServer((req, res) => {
      bait.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.end('caught');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      const port = (elsewhere.address() as AddressInfo).port;
      const seen = relay.seen.length;
      const bearer = await token('capture');
      // Sent raw: a WHATWG URL would read "//host/..." as another host before it left this process.
      const status = await new Promise<number>((resolve, reject) => {
        const gatewayUrl = new URL(gateway.url);
        const sent = httpRequest({ host: gatewayUrl.hostname, port: gatewayUrl.port, method: 'GET', path: `//127.0.0.1:${port}/steal`, headers: { authorization: `Bearer ${bearer}` } }, (answer) => {
          answer.resume();
          answer.on('end', () => resolve(answer.statusCode ?? 0));
        });
        sent.on('error', reject);
        sent.end();
      });
      expect(bait).toEqual([]);
      expect(status).toBe(404);
      expect(relay.seen.slice(seen)).toEqual([`GET //127.0.0.1:${port}/steal`]);
    } finally {
      await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
    }
  });

  it('/gateway/status needs a token with gateway:read', async () => {
    const anonymous = await call(gateway.url, 'GET', '/gateway/status');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm="kepler"/);
    const lacking = await call<{ scope: string }>(gateway.url, 'GET', '/gateway/status', { token: await token('ops', ALL_SCOPES.filter((s) => s !== 'gateway:read')) });
    expect(lacking.status).toBe(403);
    expect(lacking.body.scope).toBe('gateway:read');
    const seen = relay.seen.length;
    const status = await call<{ upstreams: Record<string, string>; forwarded: Record<string, number> }>(gateway.url, 'GET', '/gateway/status', { token: await token('ops', ['gateway:read']) });
    expect(status.status).toBe(200);
    expect(status.body.upstreams).toEqual({ blue: relay.url });
    expect(status.body.forwarded.blue).toBeGreaterThanOrEqual(3);
    // The gateway's own routes are answered by the gateway.
    expect(relay.seen.length).toBe(seen);
  });

  it('serves /metrics, /health/live and /health/ready without a token, with the forwarded requests by slot and status', async () => {
    expect((await call<{ status: string }>(gateway.url, 'GET', '/health/live')).body.status).toBe('live');
    const ready = await call<{ status: string; checks: Array<{ name: string; ok: boolean }> }>(gateway.url, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'slot-registry', ok: true }), expect.objectContaining({ name: 'upstreams', ok: true })]));
    const metrics = await fetch(`${gateway.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^kepler_gateway_forwarded_total\{(?=[^}]*slot="blue")(?=[^}]*http_response_status_code="201")[^}]*\} 1$/m);
    expect(text).toMatch(/^kepler_gateway_forwarded_total\{(?=[^}]*slot="blue")(?=[^}]*http_response_status_code="403")[^}]*\} 1$/m);
    expect(text).toMatch(/^http_server_request_duration_seconds_count\{[^}]*http_response_status_code="401"/m);
    expect(text).toMatch(/^kepler_ready(\{[^}]*\})? 1$/m);
  });

  it('limits each principal: past the limit a 429 problem with Retry-After, and another principal is not held back', async () => {
    const burst = await token('burst', ['trades:read']);
    let last = await call<{ type: string }>(gateway.url, 'GET', '/trades', { token: burst });
    for (let i = 1; i < RATE_LIMIT && last.status === 200; i++) last = await call(gateway.url, 'GET', '/trades', { token: burst });
    expect(last.status).toBe(200);
    const seen = relay.seen.length;
    const limited = await call<{ type: string }>(gateway.url, 'GET', '/trades', { token: burst });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(limited.body.type).toBe('/problems/rate-limited');
    expect(relay.seen.length).toBe(seen);
    expect((await call(gateway.url, 'GET', '/trades', { token: await token('capture', ['trades:read']) })).status).toBe(200);
    expect(gateway.logs).toMatch(/"status":429,"reason":"rate limit"/);
  });

  it('never writes a token to its log', () => {
    expect(issued.length).toBeGreaterThan(5);
    for (const t of issued) {
      expect(gateway.logs).not.toContain(t);
      expect(gateway.logs).not.toContain(t.split('.')[2]!);
    }
  });
});

describe('the gateway with authentication off', () => {
  it('refuses to listen beyond loopback without --insecure', async () => {
    const dir = tempDir();
    const result = await runCli(['serve', '--roles', 'gateway', '--data-dir', join(dir, 'data'), '--port', '0'], {
      env: { KEPLER_HOST: '0.0.0.0', KEPLER_GATEWAY_BLUE_URL: 'http://127.0.0.1:1', KEPLER_AUTH_ISSUER: '', KEPLER_AUTH_AUDIENCE: '' },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('refusing to listen on 0.0.0.0 with authentication off');
  });
});
