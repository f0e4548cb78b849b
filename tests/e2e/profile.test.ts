// A production process configured by its deployment profile alone: `kepler
// serve --profile rendered.json --env prod` as a child process with no KEPLER_*
// variable, only the value of the secret the profile references, against the
// machine's PostgreSQL and a real OpenID provider (oidc-provider) in this
// process. A request without a token is refused; one with a token is served.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultBaseProfile, renderProfile, type Rendered } from '../../releases/index.js';
import { tempDir } from '../support/feed.js';
import { KeplerServer, runCli } from '../support/kepler.js';
import { postgresAvailable } from '../support/layouts.js';
import { AUDIENCE, TestIdentityProvider } from '../support/oidc.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const PG_PASSWORD = 'pg-pa55word-never-logged';
const postgres = await postgresAvailable();

/** The variables of this test process minus every KEPLER_*: what the profile must make unnecessary. */
function withoutKeplerVariables(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of Object.keys(process.env)) if (name.startsWith('KEPLER_') || name.startsWith('OTEL_')) env[name] = undefined;
  return { ...env, ...extra };
}

/** The machine's trust-authenticated PostgreSQL, with the password as a ${PG_PASSWORD} reference (what production has). */
function withPasswordReference(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.username || 'postgres'}:\${PG_PASSWORD}@${parsed.host}${parsed.pathname}`;
}

describe.skipIf(!postgres)('serve --profile: a prod profile with authentication', () => {
  const dir = tempDir('kepler-profile-e2e-');
  let idp: TestIdentityProvider;
  let events: TestDatabase;
  let reads: TestDatabase;
  let rendered: Rendered;
  let server: KeplerServer;

  beforeAll(async () => {
    idp = await TestIdentityProvider.start([{ id: 'desk', accounts: ['*'] }]);
    events = await createTestDatabase('profile_events');
    reads = await createTestDatabase('profile_reads');
    rendered = renderProfile(
      defaultBaseProfile(),
      {
        dataDir: join(dir, 'data'),
        eventStore: { url: withPasswordReference(events.url), poolSize: 3, statementTimeoutMs: 30_000 },
        readStore: { url: withPasswordReference(reads.url), poolSize: 3 },
        http: { host: '127.0.0.1', port: 0, rateLimit: { max: 1000, windowMs: 60_000 } },
        auth: { issuer: idp.issuer, audience: AUDIENCE, jwksCooldownMs: 200 },
        limits: { readyMaxGapSeconds: 60 },
        telemetry: { logLevel: 'info' },
        secrets: ['PG_PASSWORD'],
      },
      'prod',
    );
    const file = join(dir, 'rendered.json');
    writeFileSync(file, rendered.canonical);
    server = await KeplerServer.start(join(dir, 'data'), {
      args: ['--profile', file, '--env', 'prod'],
      env: withoutKeplerVariables({ PG_PASSWORD }),
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await idp?.stop();
    await events?.drop();
    await reads?.drop();
  });

  it('refuses a request without a token and serves one with a token', async () => {
    expect(server.logs).toContain(`kepler: serving profile prod ${rendered.digest}`);
    const anonymous = await fetch(`${server.url}/trades`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const forged = await fetch(`${server.url}/trades`, { headers: { authorization: `Bearer ${await idp.forge({ aud: 'someone-else' })}` } });
    expect(forged.status).toBe(401);
    const token = await idp.token('desk');
    const served = await fetch(`${server.url}/trades`, { headers: { authorization: `Bearer ${token}` } });
    expect(served.status).toBe(200);
    expect(await served.json()).toMatchObject({ items: [] });
    // Public paths need no token, as the profile (by default) says.
    expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
  });

  it('runs on the profile’s stores, reports its environment, and never shows the secret', async () => {
    expect(server.logs).toMatch(/"msg":"authentication on/);
    expect(server.logs).toContain('"deployment.environment":"prod"');
    expect(server.logs).toContain('"eventStore":"postgres"');
    expect((await events.query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0]!.n).not.toBe('0');
    expect(server.logs).not.toContain(PG_PASSWORD);
  });

  it('a prod profile that listens beyond loopback without authentication does not start, naming /auth', async () => {
    const { auth: _, ...unauthenticated } = rendered.profile;
    const file = join(dir, 'unauthenticated.json');
    writeFileSync(file, JSON.stringify({ ...unauthenticated, http: { ...unauthenticated.http, host: '0.0.0.0' } }));
    const refused = await runCli(['serve', '--profile', file, '--env', 'prod', '--port', '0'], { env: withoutKeplerVariables({ PG_PASSWORD }) });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/\/auth: processes listen on 0\.0\.0\.0 with authentication off/);
  });
});
