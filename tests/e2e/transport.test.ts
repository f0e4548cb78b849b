// Transport and hardening from outside: HTTPS with a CA and certificate the test
// makes itself, rate limits per principal, CORS when configured, and the
// regression server (`regress-serve`) behind the same guard.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSecurity, ROUTE_SCOPES } from '../../authorization/index.js';
import { runRegression } from '../../regression/engine.js';
import { defineReconciler, eventPayloads, stripIds } from '../../regression/reconciler.js';
import { makeCertificates } from '../support/certificates.js';
import { tempDir } from '../support/feed.js';
import { call, expectScopeMatrix } from '../support/http.js';
import { CLI, KeplerServer } from '../support/kepler.js';
import { AUDIENCE, TestIdentityProvider } from '../support/oidc.js';
import { tryStartServer } from '../support/servers.js';
import { inline, openEnv, thing } from '../regression/helpers.js';

function httpsGet(url: string, options: { ca?: Buffer; token?: string; headers?: Record<string, string> }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...(options.ca && { ca: options.ca }), headers: { ...(options.token && { authorization: `Bearer ${options.token}` }), ...options.headers } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// The machine's openssl makes the certificates: absent on a developer's machine, these tests skip (in CI they fail).
const openssl = await tryStartServer('openssl', async () => execFileSync('openssl', ['version'], { stdio: 'pipe' }).toString());

describe.skipIf(!openssl)('HTTPS, rate limits and CORS on serve', () => {
  const dir = tempDir();
  let idp: TestIdentityProvider;
  let server: KeplerServer;
  let ca: Buffer;

  beforeAll(async () => {
    const files = makeCertificates(dir);
    ca = readFileSync(files.ca);
    idp = await TestIdentityProvider.start([{ id: 'ops', accounts: ['*'] }, { id: 'other', accounts: ['*'] }]);
    server = await KeplerServer.start(join(dir, 'data'), {
      env: {
        KEPLER_AUTH_ISSUER: idp.issuer,
        KEPLER_AUTH_AUDIENCE: AUDIENCE,
        KEPLER_HTTPS_CERT: files.cert,
        KEPLER_HTTPS_KEY: files.key,
        KEPLER_RATE_LIMIT: '5',
        KEPLER_CORS_ORIGINS: 'https://console.example',
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await idp?.stop();
  });

  it('serves HTTPS with the configured certificate, trusted through the test’s own CA', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const answer = await httpsGet(`${server.url}/status`, { ca, token: await idp.token('ops') });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ caughtUp: expect.any(Boolean) });
    // Without the CA the certificate is not trusted; plain HTTP is not spoken.
    await expect(httpsGet(`${server.url}/status`, {})).rejects.toThrow(/self.signed|unable to verify|certificate/i);
    await expect(fetch(`${server.url.replace('https:', 'http:')}/status`).then((r) => r.status)).rejects.toThrow();
  });

  it('limits requests per principal: past the limit a 429 problem with Retry-After, while another principal goes on', async () => {
    const ops = await idp.token('ops');
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof httpsGet>> | null = null;
    for (let i = 0; i < 8 && !limited; i++) {
      const answer = await httpsGet(`${server.url}/trades`, { ca, token: ops });
      statuses.push(answer.status);
      if (answer.status === 429) limited = answer;
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(4);
    expect(limited).not.toBeNull();
    expect(limited!.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(limited!.body)).toMatchObject({ status: 429, type: '/problems/rate-limited' });
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThan(0);
    expect((await httpsGet(`${server.url}/trades`, { ca, token: await idp.token('other') })).status).toBe(200);
    expect(server.logs).toMatch(/"status":429,"reason":"rate limit"/);
  });

  it('answers CORS for the configured origin only', async () => {
    const token = await idp.token('other');
    const allowed = await httpsGet(`${server.url}/status`, { ca, token, headers: { origin: 'https://console.example' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://console.example');
    const other = await httpsGet(`${server.url}/status`, { ca, token, headers: { origin: 'https://attacker.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('regress-serve behind the same guard', () => {
  const tmp = tempDir();
  let idp: TestIdentityProvider;
  let child: ChildProcess;
  let url: string;
  let stderr = '';

  beforeAll(async () => {
    const things = defineReconciler({ name: 'things', version: '1', select: { eventTypes: ['ThingHappened'] }, normalise: [eventPayloads(), stripIds()] });
    const prod = openEnv(join(tmp, 'prod'));
    const uat = openEnv(join(tmp, 'uat'));
    for (let i = 0; i < 5; i++) {
      await thing(prod.events, `R/${i}`, { value: i });
      await thing(uat.events, `R/${i}`, { value: i === 3 ? -1 : i });
    }
    await runRegression({ runDir: join(tmp, 'runs', 'nightly', 'run'), prod: { events: prod.events, reads: null }, uat: { events: uat.events, reads: null }, reconcilers: inline(things), workers: 0 });
    await prod.close();
    await uat.close();
    idp = await TestIdentityProvider.start([{ id: 'ci-gate', scopes: ['regression:read'] }, { id: 'ops' }]);
    child = spawn(process.execPath, [CLI, 'regress-serve', '--runs', join(tmp, 'runs'), '--port', '0', '--host', '127.0.0.1', '--known', join(tmp, 'known.json')], {
      env: { ...process.env, KEPLER_AUTH_ISSUER: idp.issuer, KEPLER_AUTH_AUDIENCE: AUDIENCE },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /kepler regress-serve: (http:\/\/[^\s]+)\/regression\/runs/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`regress-serve exited ${code}: ${stderr}`)));
    });
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await idp?.stop();
  });

  it('guards every regression route: 401, 403 naming regression:read, let in with it', async () => {
    await expectScopeMatrix(
      url,
      ROUTE_SCOPES.filter((rule) => rule.url.startsWith('/regression/')),
      (scopes) => idp.token('ops', scopes),
    );
  });

  it('serves the report with security headers and a policy that allows its own script only', async () => {
    const token = await idp.token('ci-gate');
    expect((await call<{ items: Array<{ id: string }> }>(url, 'GET', '/regression/runs', { token })).body.items.map((r) => r.id)).toEqual(['nightly']);
    const page = await fetch(`${url}/regression/runs/nightly/report.html`, { headers: { authorization: `Bearer ${token}` } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const policy = page.headers.get('content-security-policy')!;
    expect(policy).toContain("default-src 'none'");
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
    expect(scripts).toHaveLength(1);
    expect(policy).toContain(`script-src ${scripts[0]}`);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBeTruthy();
  });
});

describe.skipIf(!openssl)('the gateway: HTTPS and CORS at the edge, and a slot that does not answer', () => {
  const dir = tempDir();
  let idp: TestIdentityProvider;
  let gateway: KeplerServer;
  let ca: Buffer;

  beforeAll(async () => {
    const files = makeCertificates(dir);
    ca = readFileSync(files.ca);
    idp = await TestIdentityProvider.start([{ id: 'ops', accounts: ['*'] }]);
    gateway = await KeplerServer.start(join(dir, 'data'), {
      env: {
        KEPLER_AUTH_ISSUER: idp.issuer,
        KEPLER_AUTH_AUDIENCE: AUDIENCE,
        KEPLER_HTTPS_CERT: files.cert,
        KEPLER_HTTPS_KEY: files.key,
        KEPLER_CORS_ORIGINS: 'https://console.example',
        // Nothing listens there: the slot is down.
        KEPLER_GATEWAY_BLUE_URL: 'http://127.0.0.1:1',
      },
      args: ['--roles', 'gateway'],
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await idp?.stop();
  });

  it('serves HTTPS with the configured certificate and CORS for the configured origin only', async () => {
    expect(gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const token = await idp.token('ops', ['gateway:read']);
    const status = await httpsGet(`${gateway.url}/gateway/status`, { ca, token, headers: { origin: 'https://console.example' } });
    expect(status.status).toBe(200);
    expect(status.headers['access-control-allow-origin']).toBe('https://console.example');
    const other = await httpsGet(`${gateway.url}/gateway/status`, { ca, token, headers: { origin: 'https://attacker.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    await expect(httpsGet(`${gateway.url}/gateway/status`, {})).rejects.toThrow(/self.signed|unable to verify|certificate/i);
  });

  it('answers 502 with Retry-After when the slot is down, and stays ready: the other slot may answer', async () => {
    const answer = await httpsGet(`${gateway.url}/trades`, { ca, token: await idp.token('ops') });
    expect(answer.status).toBe(502);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(answer.body)).toMatchObject({ type: '/problems/upstream-unavailable' });
    expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
    expect((await httpsGet(`${gateway.url}/health/ready`, { ca })).status).toBe(200);
  });
});

describe('the scope table guards every route', () => {
  it('a server with a route the table does not name does not start', async () => {
    const app = Fastify();
    await registerSecurity(app, { auth: null, publicPaths: ['/health/live'], rateLimit: null, corsOrigins: null });
    app.get('/health/live', async () => 'ok');
    app.get('/trades', async () => []);
    expect(() => app.get('/backdoor', async () => 'open')).toThrow(/GET \/backdoor is not in the scope table/);
    expect(() => app.post('/trades/:ref/shred', async () => 'gone')).toThrow(/not in the scope table/);
    expect(ROUTE_SCOPES.length).toBeGreaterThan(20);
    await app.close();
  });
});
