// Issue 10 from outside: `kepler serve` as a child process with a real OpenID
// provider (oidc-provider) in this process. Clients get tokens with the
// client-credentials grant and call the APIs as any client would.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PUBLIC_PATHS } from '../../authentication/index.js';
import { ROUTE_SCOPES } from '../../authorization/index.js';
import { loadConfig } from '../../app/config.js';
import { Approvals } from '../../domain/index.js';
import { deterministicId, SqliteEventStore } from '../../eventstore/index.js';
import { formatDetail } from '../../ingestion/cx1/index.js';
import { corrupt, tempDir, trd, writeFeedFile } from '../support/feed.js';
import { ingest, KeplerServer, runCli } from '../support/kepler.js';
import { ALL_SCOPES, AUDIENCE, TestIdentityProvider } from '../support/oidc.js';
import { call, expectScopeMatrix } from '../support/http.js';

/** The guarded routes `serve` has: the regression routes are `regress-serve`'s, `/gateway/status` the gateway's, and the public paths need no token. */
const SERVE_ROUTES = ROUTE_SCOPES.filter((rule) => !rule.url.startsWith('/regression/') && !rule.url.startsWith('/gateway/') && !(DEFAULT_PUBLIC_PATHS as readonly string[]).includes(rule.url));

const TERMS = {
  isin: 'US0378331005',
  side: 'BUY',
  quantity: 100,
  price: '10.50',
  currency: 'USD',
  tradeDate: '2026-11-27',
  settleDate: '2026-11-30',
  counterparty: 'CPTY-1',
};

describe('security: authentication, authorization and audit through serve', () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  let idp: TestIdentityProvider;
  let server: KeplerServer;
  const tokens: string[] = [];
  const AMQP_PASSWORD = 'amqp-pa55word-never-logged';
  const MONGO_PASSWORD = 'mongo-pa55word-never-logged';

  const token = async (client: string, scopes?: readonly string[]) => {
    const issued = await idp.token(client, scopes);
    tokens.push(issued);
    return issued;
  };
  const as = async <T = Record<string, unknown>>(client: string, method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    call<T>(server.url, method, path, { token: await token(client), body, ...(headers && { headers }) });

  beforeAll(async () => {
    idp = await TestIdentityProvider.start([
      { id: 'ops', accounts: ['*'], name: 'Operations' },
      { id: 'checker', accounts: ['*'], name: 'Second Pair Of Eyes' },
      { id: 'decider-only', accounts: ['*'], scopes: ['approvals:decide', 'approvals:read'] },
      { id: 'desk-1', accounts: ['ACC-1', 'FUND-1'] },
      { id: 'no-accounts' },
    ]);
    server = await KeplerServer.start(dataDir, {
      env: {
        KEPLER_AUTH_ISSUER: idp.issuer,
        KEPLER_AUTH_AUDIENCE: AUDIENCE,
        KEPLER_AUTH_JWKS_COOLDOWN_MS: '200',
        // A broker that is not there, with a password in its URL: it must never show.
        KEPLER_AMQP_URL: `amqp://kepler:${AMQP_PASSWORD}@127.0.0.1:1/`,
        KEPLER_READ_YOUR_WRITES_TIMEOUT_MS: '3000',
      },
    });
    server.authorize = () => token('ops');
  });
  afterAll(async () => {
    await server?.stop();
    await idp?.stop();
  });

  it('says at start that authentication is on, with the issuer', () => {
    expect(server.logs).toContain('authentication on');
    expect(server.logs).toContain(idp.issuer);
  });

  it('a valid token of the issuer gets in; a missing, malformed, expired, foreign or forged one is a 401 with a Bearer challenge', async () => {
    expect((await as('ops', 'GET', '/trades')).status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    const { generateKeyPair } = await import('jose');
    const stranger = await generateKeyPair('RS256');
    const cases: Array<[string, string | undefined, string | undefined]> = [
      ['no token', undefined, undefined],
      ['not a bearer token', 'Basic b3BzOnNlY3JldA==', 'invalid_token'],
      ['garbage', 'Bearer not-a-jwt', 'invalid_token'],
      ['expired', `Bearer ${await idp.forge({ exp: now - 120 })}`, 'invalid_token'],
      ['wrong audience', `Bearer ${await idp.forge({ aud: 'https://someone-else.example' })}`, 'invalid_token'],
      ['wrong issuer', `Bearer ${await idp.forge({ iss: 'https://evil.example' })}`, 'invalid_token'],
      ['alg none', `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: idp.issuer, aud: AUDIENCE, exp: now + 60 })).toString('base64url')}.`, 'invalid_token'],
      ['another key', `Bearer ${await idp.forge({}, { key: stranger.privateKey })}`, 'invalid_token'],
    ];
    for (const [label, authorization, error] of cases) {
      const answer = await call<{ type: string; detail: string }>(server.url, 'GET', '/trades', { headers: authorization ? { authorization } : {} });
      expect(answer.status, label).toBe(401);
      expect(answer.headers.get('www-authenticate'), label).toMatch(/^Bearer realm="kepler"/);
      if (error) expect(answer.headers.get('www-authenticate'), label).toContain(`error="${error}"`);
      expect(answer.headers.get('content-type'), label).toMatch(/^application\/problem\+json/);
      // Why a signature failed is not told.
      expect(answer.body.detail, label).not.toMatch(/signature|key|kid|audience|issuer/i);
    }
    expect((await call<{ detail: string }>(server.url, 'GET', '/trades', { headers: { authorization: `Bearer ${await idp.forge({ exp: now - 120 })}` } })).body.detail).toBe('the access token expired');
    // Each refusal is a security event in the log: the reason and route, never the token.
    expect(server.logs).toMatch(/"security":\{"outcome":"refused","status":401,"reason":"claim aud/);
    expect(server.logs).toMatch(/"reason":"signature verification failed","method":"GET","route":"\/trades"/);
  });

  it('follows a key rotation: after it, the new key is taken and a token under a kid the issuer no longer has is refused', async () => {
    const before = await token('ops');
    expect((await call(server.url, 'GET', '/status', { token: before })).status).toBe(200);
    await idp.rotate();
    const after = await token('ops');
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) status = (await call(server.url, 'GET', '/status', { token: after })).status;
    expect(status).toBe(200);
    const stale = await call(server.url, 'GET', '/status', { token: before });
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('guards every route of the scope table: 401 without a token, 403 naming the scope without it, let in with it', async () => {
    await expectScopeMatrix(server.url, SERVE_ROUTES, (scopes) => token('ops', scopes));
  });

  it('serves the public paths (liveness, readiness, metrics) without a token', async () => {
    for (const path of DEFAULT_PUBLIC_PATHS) expect((await call(server.url, 'GET', path)).status, path).not.toBe(401);
    // Public is for reading: any other method on a public path needs a token like everything else.
    for (const path of DEFAULT_PUBLIC_PATHS) expect((await call(server.url, 'POST', path, { body: {} })).status, `POST ${path}`).toBe(401);
  });

  it('refuses to make anything but the operational paths public', () => {
    for (const paths of ['/trades', '/health/live,/exceptions/:id/resubmission', '/docs']) {
      expect(() => loadConfig({ settings: { dataDir: dir } }, { KEPLER_AUTH_ISSUER: idp.issuer, KEPLER_AUTH_AUDIENCE: AUDIENCE, KEPLER_AUTH_PUBLIC_PATHS: paths }), paths).toThrow(/cannot be public; only \/health\/live, \/health\/ready, \/metrics can/);
    }
    expect(loadConfig({ settings: { dataDir: dir } }, { KEPLER_AUTH_ISSUER: idp.issuer, KEPLER_AUTH_AUDIENCE: AUDIENCE, KEPLER_AUTH_PUBLIC_PATHS: '/health/live' }).publicPaths).toEqual(['/health/live']);
  });

  it('shows the security schemes and each operation’s scope in the OpenAPI document', async () => {
    const doc = (await as<{ components: { securitySchemes: Record<string, { flows?: { clientCredentials: { tokenUrl: string; scopes: Record<string, string> } } }> }; paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>> }>('ops', 'GET', '/docs/json')).body;
    expect(doc.components.securitySchemes.oauth2!.flows!.clientCredentials.tokenUrl).toBe(`${idp.issuer}/token`);
    expect(Object.keys(doc.components.securitySchemes.oauth2!.flows!.clientCredentials.scopes).sort()).toEqual([...ALL_SCOPES].sort());
    for (const rule of SERVE_ROUTES) {
      const operation = doc.paths[rule.url.replace(/:(\w+)/g, '{$1}')]?.[rule.method.toLowerCase()];
      expect(operation, `${rule.method} ${rule.url}`).toBeDefined();
      expect(operation!.security, `${rule.method} ${rule.url}`).toEqual([{ bearer: rule.scope ? [rule.scope] : [] }, { oauth2: rule.scope ? [rule.scope] : [] }]);
    }
  });

  it('entitlements: queries return only the principal’s accounts; a command naming an account outside them is a 403, one on a trade outside them a 404 as for a trade that does not exist; neither appends', async () => {
    for (const [ref, account] of [['ENT-1', 'ACC-1'], ['ENT-2', 'ACC-2']] as const) {
      expect((await as('ops', 'POST', '/trades', { tradeRef: ref, account, ...TERMS })).status).toBe(201);
      expect((await as('ops', 'PUT', `/trades/${ref}/allocations/A1`, { account: ref === 'ENT-1' ? 'FUND-1' : 'FUND-2', quantity: 100 })).status).toBe(200);
      expect((await as('ops', 'POST', `/trades/${ref}/confirmations`, { status: 'AFFIRMED', quantity: 100, price: '10.5', reason: '' })).status).toBe(201);
    }
    // Lines rejected for each trade, and one too broken to name a trade.
    const file = writeFeedFile(dir, {
      name: 'CORE_ENT.cx1',
      source: 'CORE',
      lines: [corrupt(trd(801, 'ENT-1'), 59, '9', 1000), corrupt(trd(802, 'ENT-2'), 59, '9', 1000), { raw: 'X'.repeat(128) }],
    });
    await ingest(dataDir, [file]);
    await server.caughtUp();

    const desk = await token('desk-1');
    const get = <T>(path: string, bearer = desk) => call<T>(server.url, 'GET', path, { token: bearer });
    const refs = (await get<{ items: Array<{ tradeRef: string }> }>('/trades')).body.items.map((t) => t.tradeRef);
    expect(refs).toContain('ENT-1');
    expect(refs).not.toContain('ENT-2');
    expect((await get('/trades/ENT-2')).status).toBe(404);
    expect((await get('/trades?account=ACC-2')).body).toEqual({ items: [], nextCursor: null });
    expect((await get<{ items: Array<{ account: string }> }>('/positions')).body.items.map((p) => p.account)).toEqual(['FUND-1']);
    const exceptions = (await get<{ items: Array<{ tradeRef: string | null }> }>('/exceptions?file=CORE_ENT.cx1')).body.items;
    expect(exceptions.map((e) => e.tradeRef)).toEqual(['ENT-1']);
    expect((await get<Record<string, number>>('/exceptions/counts')).body).toEqual({ INVALID_RECORD: 1 });
    const all = await token('ops');
    expect((await get<{ items: unknown[] }>('/exceptions?file=CORE_ENT.cx1', all)).body.items).toHaveLength(3);
    // No claim at all: entitled to nothing.
    expect((await get<{ items: unknown[] }>('/trades', await token('no-accounts'))).body.items).toEqual([]);

    const head = (await get<{ head: number }>('/status', all)).body.head;
    // An account the request names is refused by name; a trade outside the principal's accounts is
    // answered exactly as one that does not exist, so its account is never told.
    const refused: Array<[string, string, unknown]> = [
      ['POST', '/trades', { tradeRef: 'ENT-3', account: 'ACC-2', ...TERMS }],
      ['POST', '/trades/ENT-1/amendments', { account: 'ACC-2', ...TERMS }],
      ['PUT', '/trades/ENT-1/allocations/A9', { account: 'FUND-2', quantity: 1 }],
    ];
    for (const [method, path, body] of refused) {
      const answer = await call<{ type: string; detail: string }>(server.url, method, path, { token: desk, body, headers: { 'idempotency-key': `ent-${method}-${path}` } });
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body.type, `${method} ${path}`).toBe('/problems/not-entitled');
    }
    const hidden: Array<[string, string, unknown]> = [
      ['POST', '/trades/ENT-2/amendments', { account: 'ACC-1', ...TERMS, quantity: 5 }],
      ['POST', '/trades/ENT-2/cancellation', { reason: 'x' }],
      ['PUT', '/trades/ENT-2/allocations/A9', { account: 'FUND-1', quantity: 1 }],
      ['POST', '/trades/ENT-2/confirmations', { status: 'AFFIRMED', quantity: 100, price: '10.5', reason: '' }],
      ['PUT', '/trades/ENT-2/hold', undefined],
      ['DELETE', '/trades/ENT-2/hold', undefined],
    ];
    for (const [method, path, body] of hidden) {
      const answer = await call<{ type: string; detail: string }>(server.url, method, path, { token: desk, body, headers: { 'idempotency-key': `ent-${method}-${path}` } });
      const absent = await call<{ type: string; detail: string }>(server.url, method, path.replace('ENT-2', 'NO-SUCH'), { token: desk, body });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.type, `${method} ${path}`).toBe(absent.body.type);
      expect(answer.body.detail.replace('ENT-2', 'NO-SUCH'), `${method} ${path}`).toBe(absent.body.detail);
      expect(JSON.stringify(answer.body)).not.toContain('ACC-2');
    }
    expect((await get<{ head: number }>('/status', all)).body.head).toBe(head);
    expect((await call(server.url, 'POST', '/trades/ENT-1/amendments', { token: desk, body: { account: 'ACC-1', ...TERMS, quantity: 100 } })).status).toBe(201);
  });

  it('Idempotency-Key belongs to its principal: another principal’s request with the same key is its own', async () => {
    const first = await as('ops', 'POST', '/trades', { tradeRef: 'IDEM-A', account: 'ACC-1', ...TERMS }, { 'idempotency-key': 'shared-key' });
    expect(first.status).toBe(201);
    const other = await as('desk-1', 'POST', '/trades', { tradeRef: 'IDEM-B', account: 'ACC-1', ...TERMS }, { 'idempotency-key': 'shared-key' });
    expect(other.status).toBe(201);
    expect(other.body).toMatchObject({ tradeRef: 'IDEM-B' });
    expect(other.headers.get('idempotent-replay')).toBeNull();
    const replay = await as('desk-1', 'POST', '/trades', { tradeRef: 'IDEM-B', account: 'ACC-1', ...TERMS }, { 'idempotency-key': 'shared-key' });
    expect(replay.headers.get('idempotent-replay')).toBe('true');
    expect(replay.body).toEqual(other.body);
  });

  it('four eyes: cancelling a booked trade waits for a second principal; the maker cannot approve; the checker’s approval cancels it once', async () => {
    expect((await as('ops', 'POST', '/trades', { tradeRef: 'EYES-1', account: 'ACC-1', ...TERMS })).status).toBe(201);
    // Not booked yet: carried out at once.
    expect((await as('ops', 'POST', '/trades', { tradeRef: 'EYES-0', account: 'ACC-1', ...TERMS })).status).toBe(201);
    expect((await as('ops', 'POST', '/trades/EYES-0/cancellation', { reason: 'not booked' })).status).toBe(201);
    expect((await as('ops', 'PUT', '/trades/EYES-1/allocations/A1', { account: 'FUND-1', quantity: 100 })).status).toBe(200);
    expect((await as('ops', 'POST', '/trades/EYES-1/confirmations', { status: 'AFFIRMED', quantity: 100, price: '10.5', reason: '' })).status).toBe(201);
    await server.caughtUp();
    expect((await as('ops', 'GET', '/trades/EYES-1')).body).toMatchObject({ status: 'BOOKED' });

    expect((await as<{ type: string }>('ops', 'POST', '/trades/EYES-1/cancellation', { reason: 'stale' }, { 'if-match': '"7"' })).body).toMatchObject({ status: 409, type: '/problems/version-conflict' });
    const asked = await as<{ approvalId: string; status: string; position: number }>('ops', 'POST', '/trades/EYES-1/cancellation', { reason: 'wrong counterparty' }, { 'idempotency-key': 'eyes-1', 'if-match': '"1"' });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ status: 'PENDING', tradeRef: 'EYES-1', version: 1 });
    expect(asked.headers.get('location')).toBe(`/approvals/${asked.body.approvalId}`);
    const again = await as<{ approvalId: string }>('ops', 'POST', '/trades/EYES-1/cancellation', { reason: 'wrong counterparty' }, { 'idempotency-key': 'eyes-1', 'if-match': '"1"' });
    expect(again.body.approvalId).toBe(asked.body.approvalId);
    const id = asked.body.approvalId;

    const pending = await as<{ items: Array<{ id: string; requestedBy: { subject: string }; action: unknown }> }>('checker', 'GET', `/approvals?status=PENDING&minPosition=${asked.body.position}`);
    expect(pending.body.items).toEqual([expect.objectContaining({ id, requestedBy: expect.objectContaining({ subject: 'ops' }), action: { kind: 'cancel-trade', tradeRef: 'EYES-1', reason: 'wrong counterparty', version: 1 } })]);
    expect((await as('ops', 'GET', `/trades/EYES-1`)).body).toMatchObject({ status: 'BOOKED' });

    const self = await as<{ type: string }>('ops', 'POST', `/approvals/${id}/approval`);
    expect(self.status).toBe(403);
    expect(self.body.type).toBe('/problems/self-approval');
    const noScope = await as<{ type: string; scope: string }>('decider-only', 'POST', `/approvals/${id}/approval`);
    expect(noScope.status).toBe(403);
    expect(noScope.body).toMatchObject({ type: '/problems/insufficient-scope', scope: 'trades:cancel' });
    // Outside the checker's accounts: not theirs to decide.
    expect((await as<{ type: string }>('no-accounts', 'POST', `/approvals/${id}/approval`)).body).toMatchObject({ status: 404, type: '/problems/not-found' });

    const approved = await as<{ status: string; outcome: { status: number; body: { version: number; position: number } } }>('checker', 'POST', `/approvals/${id}/approval`);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'CARRIED_OUT', decidedBy: { subject: 'checker' }, outcome: { status: 201, body: { tradeRef: 'EYES-1', version: 2 } } });
    const retried = await as('checker', 'POST', `/approvals/${id}/approval`);
    expect(retried.body).toEqual(approved.body);
    expect((await as('ops', 'POST', `/approvals/${id}/rejection`, { reason: 'too late' })).status).toBe(403);
    expect((await as<{ type: string }>('decider-only', 'POST', `/approvals/${id}/rejection`)).status).toBe(403);
    expect((await as(`ops`, 'GET', `/trades/EYES-1?minPosition=${approved.body.outcome.body.position}`)).body).toMatchObject({ status: 'CANCELLED', lastChangedBy: { subject: 'ops' } });

    // The audit trail: who asked, who approved, and the cancellation once, with its maker as actor.
    const history = await runCli(['history', 'EYES-1', '--json', '--data-dir', dataDir]);
    expect(history.code).toBe(0);
    const events = history.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; actor: { subject: string; clientId?: string; name?: string } | null });
    expect(events.filter((e) => e.type === 'TradeCancelled')).toHaveLength(1);
    expect(events.find((e) => e.type === 'TradeCancelled')!.actor).toEqual({ subject: 'ops', clientId: 'ops', name: 'Operations' });
    expect(events.find((e) => e.type === 'ApprovalRequested')!.actor).toMatchObject({ subject: 'ops' });
    expect(events.find((e) => e.type === 'ApprovalGranted')!.actor).toMatchObject({ subject: 'checker', name: 'Second Pair Of Eyes' });
    // Derived by the processors from commands: they carry the principal on, as causation flows.
    await server.caughtUp();
    const derived = (await runCli(['history', 'EYES-1', '--json', '--data-dir', dataDir])).stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; actor: { subject: string } | null });
    expect(derived.find((e) => e.type === 'TradeBooked')!.actor).toMatchObject({ subject: 'ops' });
    expect(derived.find((e) => e.type === 'BookingReversed')!.actor).toMatchObject({ subject: 'ops' });
  });

  it('four eyes: an approval cancels only the version its maker saw; amended meanwhile, carrying it out is a 409 kept with it, and the maker asks again', async () => {
    expect((await as('ops', 'POST', '/trades', { tradeRef: 'EYES-4', account: 'ACC-1', ...TERMS })).status).toBe(201);
    expect((await as('ops', 'PUT', '/trades/EYES-4/allocations/A1', { account: 'FUND-1', quantity: 100 })).status).toBe(200);
    expect((await as('ops', 'POST', '/trades/EYES-4/confirmations', { status: 'AFFIRMED', quantity: 100, price: '10.5', reason: '' })).status).toBe(201);
    await server.caughtUp();
    expect((await as('ops', 'GET', '/trades/EYES-4')).body).toMatchObject({ status: 'BOOKED', version: 1 });

    const asked = await as<{ approvalId: string; version: number; position: number }>('ops', 'POST', '/trades/EYES-4/cancellation', { reason: 'duplicate' });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ status: 'PENDING', tradeRef: 'EYES-4', version: 1 });
    const id = asked.body.approvalId;
    // Before the checker looks, the trade moves on: version 2, which neither principal has seen.
    const amended = await as<{ version: number; position: number }>('desk-1', 'POST', '/trades/EYES-4/amendments', { account: 'ACC-1', ...TERMS, price: '10.75' });
    expect(amended.body).toMatchObject({ tradeRef: 'EYES-4', version: 2 });
    const shown = await as<{ status: string; action: unknown }>('checker', 'GET', `/approvals/${id}?minPosition=${asked.body.position}`);
    expect(shown.body).toMatchObject({ status: 'PENDING', action: { kind: 'cancel-trade', tradeRef: 'EYES-4', reason: 'duplicate', version: 1 } });

    type Decided = { status: string; outcome: { status: number; body: { type: string; currentVersion: number } }; position: number };
    const approved = await as<Decided>('checker', 'POST', `/approvals/${id}/approval`);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'CARRIED_OUT', decidedBy: { subject: 'checker' }, outcome: { status: 409, body: { type: '/problems/version-conflict', currentVersion: 2 } } });
    // A decided answer: the retry gets it again and cancels nothing, even now.
    expect((await as('checker', 'POST', `/approvals/${id}/approval`)).body).toEqual(approved.body);
    const after = await as<{ status: string; version: number }>('ops', 'GET', `/trades/EYES-4?minPosition=${approved.body.position}`);
    expect(after.body.version).toBe(2);
    expect(after.body.status).not.toBe('CANCELLED');
    expect((await as('checker', 'GET', `/approvals/${id}?minPosition=${approved.body.position}`)).body).toMatchObject({ status: 'CARRIED_OUT', outcome: { status: 409 }, action: { version: 1 } });
    const history = (await runCli(['history', 'EYES-4', '--json', '--data-dir', dataDir])).stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string });
    expect(history.filter((e) => e.type === 'TradeCancelled')).toHaveLength(0);

    // The request is closed; once version 2 is booked in its turn, the maker asks again, for it, and it is cancelled.
    expect((await as('ops', 'POST', '/trades/EYES-4/confirmations', { status: 'AFFIRMED', quantity: 100, price: '10.75', reason: '' })).status).toBe(201);
    await server.caughtUp();
    expect((await as('ops', 'GET', '/trades/EYES-4')).body).toMatchObject({ status: 'BOOKED', version: 2 });
    const again = await as<{ approvalId: string; version: number }>('ops', 'POST', '/trades/EYES-4/cancellation', { reason: 'duplicate' });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ version: 2 });
    expect(again.body.approvalId).not.toBe(id);
    const done = await as<Decided>('checker', 'POST', `/approvals/${again.body.approvalId}/approval`);
    expect(done.body).toMatchObject({ status: 'CARRIED_OUT', outcome: { status: 201, body: { tradeRef: 'EYES-4', version: 3 } } });
    expect((await as('ops', 'GET', `/trades/EYES-4?minPosition=${done.body.position}`)).body).toMatchObject({ status: 'CANCELLED', version: 3 });
  });

  it('four eyes: an approval whose checker’s request was lost before carrying it out is finished by another checker, once, as its checker decided it', async () => {
    expect((await as('ops', 'POST', '/trades', { tradeRef: 'EYES-6', account: 'ACC-1', ...TERMS })).status).toBe(201);
    expect((await as('ops', 'PUT', '/trades/EYES-6/allocations/A1', { account: 'FUND-1', quantity: 100 })).status).toBe(200);
    expect((await as('ops', 'POST', '/trades/EYES-6/confirmations', { status: 'AFFIRMED', quantity: 100, price: '10.5', reason: '' })).status).toBe(201);
    await server.caughtUp();
    const asked = await as<{ approvalId: string }>('ops', 'POST', '/trades/EYES-6/cancellation', { reason: 'lost approval' });
    expect(asked.status).toBe(202);
    const id = asked.body.approvalId;

    // The checker's approval is recorded, and their request dies before the cancellation is carried out:
    // the store holds ApprovalGranted and nothing after it (written here as that request would have).
    const store = SqliteEventStore.open(join(dataDir, 'events.db'));
    try {
      const stream = Approvals.approvalStream(id);
      const revision = (await store.readStream(stream)).at(-1)!.revision;
      const granted: Approvals.ApprovalGranted = { type: 'ApprovalGranted', approvalId: id, tradeRef: 'EYES-6', approvedBy: { subject: 'checker', clientId: 'checker', name: 'Second Pair Of Eyes' } };
      await store.append(stream, [{ id: deterministicId(stream, revision + 1), type: granted.type, data: granted, metadata: { correlationId: 'EYES-6', actor: granted.approvedBy } }], revision);
    } finally {
      await store.close();
    }
    expect((await as('ops', 'GET', '/trades/EYES-6')).body).toMatchObject({ status: 'BOOKED' });
    // The maker still cannot finish it.
    expect((await as<{ type: string }>('ops', 'POST', `/approvals/${id}/approval`)).body).toMatchObject({ type: '/problems/self-approval' });

    type Decided = { status: string; decidedBy: { subject: string }; outcome: { status: number; body: { version: number; position: number } } };
    const finished = await as<Decided>('desk-1', 'POST', `/approvals/${id}/approval`);
    expect(finished.status).toBe(200);
    expect(finished.body).toMatchObject({ status: 'CARRIED_OUT', decidedBy: { subject: 'checker' }, outcome: { status: 201, body: { version: 2 } } });
    // Decided and carried out: another principal cannot decide it again, and its checker gets the answer.
    expect((await as<{ type: string }>('desk-1', 'POST', `/approvals/${id}/rejection`, { reason: 'too late' })).body).toMatchObject({ status: 409, type: '/problems/approval-decided' });
    expect((await as('checker', 'POST', `/approvals/${id}/approval`)).body).toEqual(finished.body);
    expect((await as('ops', 'GET', `/trades/EYES-6?minPosition=${finished.body.outcome.body.position}`)).body).toMatchObject({ status: 'CANCELLED', lastChangedBy: { subject: 'ops' } });

    const events = (await runCli(['history', 'EYES-6', '--json', '--data-dir', dataDir])).stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; actor: { subject: string } | null });
    expect(events.filter((e) => e.type === 'TradeCancelled')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'ApprovalGranted').map((e) => e.actor?.subject)).toEqual(['checker']);
    expect(events.find((e) => e.type === 'ApprovalCarriedOut')!.actor).toMatchObject({ subject: 'desk-1' });
  });

  it('four eyes: a rejected request changes nothing; resubmitting a line waits for approval too', async () => {
    expect((await as('ops', 'POST', '/trades', { tradeRef: 'EYES-2', account: 'ACC-1', ...TERMS })).status).toBe(201);
    expect((await as('ops', 'PUT', '/trades/EYES-2/allocations/A1', { account: 'FUND-1', quantity: 100 })).status).toBe(200);
    expect((await as('ops', 'POST', '/trades/EYES-2/confirmations', { status: 'AFFIRMED', quantity: 100, price: '10.5', reason: '' })).status).toBe(201);
    await server.caughtUp();
    const asked = await as<{ approvalId: string }>('ops', 'POST', '/trades/EYES-2/cancellation', { reason: 'oops' });
    expect(asked.status).toBe(202);
    const rejected = await as<{ status: string }>('checker', 'POST', `/approvals/${asked.body.approvalId}/rejection`, { reason: 'keep it' });
    expect(rejected.body).toMatchObject({ status: 'REJECTED', decidedBy: { subject: 'checker' } });
    expect((await as('checker', 'POST', `/approvals/${asked.body.approvalId}/approval`)).status).toBe(409);
    await server.caughtUp();
    expect((await as('ops', 'GET', '/trades/EYES-2')).body).toMatchObject({ status: 'BOOKED', version: 1 });

    const good = trd(951, 'EYES-3', { account: 'ACC-1' });
    const file = writeFeedFile(dir, { name: 'CORE_EYES.cx1', source: 'CORE', lines: [corrupt(good, 59, '9', 1000)] });
    await ingest(dataDir, [file]);
    await server.caughtUp();
    const [exception] = (await as<{ items: Array<{ id: string }> }>('ops', 'GET', '/exceptions?file=CORE_EYES.cx1')).body.items;
    const line = formatDetail(951, (good as { record: Parameters<typeof formatDetail>[1] }).record);
    expect((await as('ops', 'POST', `/exceptions/${exception!.id}/resubmission`, { line: 'not a line' })).status).toBe(422);
    const request = await as<{ approvalId: string }>('ops', 'POST', `/exceptions/${exception!.id}/resubmission`, { line });
    expect(request.status).toBe(202);
    const approved = await as<{ status: string; outcome: { status: number; body: { position: number } } }>('checker', 'POST', `/approvals/${request.body.approvalId}/approval`);
    expect(approved.body).toMatchObject({ status: 'CARRIED_OUT', outcome: { status: 201 } });
    expect((await as('ops', 'GET', `/trades/EYES-3?minPosition=${approved.body.outcome.body.position}`)).body).toMatchObject({ version: 1, lastChangedBy: { subject: 'ops' } });
  });

  it('keeps secrets out of the logs and /status: no token, no password of a store or broker URL', async () => {
    const status = await as('ops', 'GET', '/status');
    expect(JSON.stringify(status.body)).not.toContain(AMQP_PASSWORD);
    // The logger itself, given what a careless line might hold.
    const script = `
      const { createLogger } = await import(${JSON.stringify(join(process.cwd(), 'dist/app/logger.js'))});
      const logger = createLogger('redaction-check');
      logger.info({ req: { headers: { authorization: 'Bearer ${tokens[0]}' } }, token: '${tokens[1]}' }, 'request');
      logger.warn({ url: 'mongodb://kepler:${MONGO_PASSWORD}@m1:27017/?replicaSet=rs0' }, 'cannot reach mongodb://kepler:${MONGO_PASSWORD}@m1:27017');
      logger.error({ err: new Error('connect to esdb://admin:${MONGO_PASSWORD}@es:2113?tls=true failed') }, 'event store');
      logger.flush();`;
    const { spawnSync } = await import('node:child_process');
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.stderr).toContain('redaction-check');
    const logs = server.logs + run.stderr;
    for (const secret of [...tokens, AMQP_PASSWORD, MONGO_PASSWORD]) expect(logs.includes(secret), `a secret reached the logs: ${secret.slice(0, 12)}…`).toBe(false);
    expect(run.stderr).toContain('mongodb://kepler:***@m1:27017');
  });

  it('sets security headers; CORS stays off unless configured', async () => {
    const docs = await call(server.url, 'GET', '/docs/static/index.html', { token: await token('ops'), headers: { origin: 'https://attacker.example' } });
    expect(docs.headers.get('x-content-type-options')).toBe('nosniff');
    expect(docs.headers.get('content-security-policy')).toBeTruthy();
    expect(docs.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('serve without an identity provider', () => {
  it('refuses to listen beyond loopback unless --insecure, and says loudly that authentication is off', async () => {
    const dataDir = join(tempDir(), 'data');
    const refused = await runCli(['serve', '--data-dir', dataDir, '--port', '0'], { env: { KEPLER_HOST: '0.0.0.0' } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing to listen on 0.0.0.0 with authentication off');
    const insecure = await KeplerServer.start(dataDir, { env: { KEPLER_HOST: '0.0.0.0' }, args: ['--insecure'] });
    try {
      expect(insecure.logs).toContain('AUTHENTICATION IS OFF');
      expect(insecure.logs).toContain('four eyes (maker-checker) is off');
    } finally {
      await insecure.stop();
    }
  });
});
