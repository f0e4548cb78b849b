// Operators authenticate: with an issuer configured, the release commands that record an
// actor take it from KEPLER_TOKEN (checked like an API request's token, with the
// operation's scope), and refuse --actor. The compiled `kepler` CLI in child processes,
// a real OpenID provider (oidc-provider) in this process.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Git, type Pipeline } from '../../releases/index.js';
import { MANAGEMENT_URL, rabbitMq } from '../messaging/rabbit.js';
import { runCli } from '../support/kepler.js';
import { AUDIENCE, TestIdentityProvider } from '../support/oidc.js';
import { TestVhost } from '../topology/broker.js';
import { tempDir } from './support.js';

describe('release commands with authentication on', () => {
  let tmp: ReturnType<typeof tempDir>;
  let repo: string;
  let idp: TestIdentityProvider;
  let auth: NodeJS.ProcessEnv;
  const kepler = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli([...args, '--repo', repo], { cwd: tmp.dir, env: { ...auth, KEPLER_ACTOR: undefined, KEPLER_TOKEN: undefined, ...env } });
  const as = async (client: string, scopes: readonly string[]) => ({ KEPLER_TOKEN: await idp.token(client, scopes) });

  beforeAll(async () => {
    tmp = tempDir('kepler-release-auth-');
    repo = join(tmp.dir, 'pipeline');
    idp = await TestIdentityProvider.start([{ id: 'carol', name: 'Carol Cutter' }, { id: 'dave' }, { id: 'erin' }]);
    auth = { KEPLER_AUTH_ISSUER: idp.issuer, KEPLER_AUTH_AUDIENCE: AUDIENCE };
  });
  afterAll(async () => {
    await idp?.stop();
    tmp?.cleanup();
  });

  it('records the token’s principal, refuses --actor and a missing, forged or scopeless token, and four eyes holds', async () => {
    // pipeline init records who made the repository: it needs releases:cut too.
    expect((await kepler(['pipeline', 'init'])).code).toBe(1);
    const init = await kepler(['pipeline', 'init'], await as('carol', ['releases:cut']));
    expect(init.code, init.stderr).toBe(0);
    const file = join(repo, 'pipeline.json');
    const pipeline = JSON.parse(readFileSync(file, 'utf8')) as Pipeline;
    pipeline.phases[0]!.environments[1]!.gates.push({ gate: 'approvals', required: 1 });
    writeFileSync(file, JSON.stringify(pipeline, null, 2));
    await new Git(repo).commit('ci needs an approval', ['pipeline.json'], { subject: 'carol' });

    const cut = await kepler(['release', 'cut', '--json', '--allow-dirty'], await as('carol', ['releases:cut']));
    expect(cut.code, cut.stderr).toBe(0);
    const { id } = JSON.parse(cut.stdout) as { id: string };
    const manifest = JSON.parse(readFileSync(join(repo, 'candidates', id, 'manifest.json'), 'utf8')) as { createdBy: { subject: string; clientId?: string; name?: string } };
    expect(manifest.createdBy).toMatchObject({ subject: 'carol', clientId: 'carol', name: 'Carol Cutter' });

    const approve = ['approve', id, '--env', 'ci'];
    const refused = async (env: NodeJS.ProcessEnv, args: string[], message: RegExp) => {
      const result = await kepler(args, env);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toMatch(message);
    };
    const now = Math.floor(Date.now() / 1000);
    const { generateKeyPair } = await import('jose');
    const stranger = await generateKeyPair('RS256');
    // No token, a name typed in, an expired, forged or scopeless token: refused, and nothing recorded.
    await refused({}, approve, /needs an access token in KEPLER_TOKEN with the scope releases:approve/);
    await refused({ KEPLER_ACTOR: 'dave' }, approve, /KEPLER_ACTOR is refused: authentication is configured/);
    await refused(await as('dave', ['releases:approve']), [...approve, '--actor', 'dave'], /--actor is refused: authentication is configured/);
    await refused({ KEPLER_TOKEN: await idp.forge({ sub: 'dave', exp: now - 120, scope: 'releases:approve' }) }, approve, /KEPLER_TOKEN is not a valid access token .*: it expired/);
    await refused({ KEPLER_TOKEN: await idp.forge({ sub: 'dave', scope: 'releases:approve' }, { key: stranger.privateKey }) }, approve, /KEPLER_TOKEN is not a valid access token/);
    await refused(await as('dave', ['releases:cut', 'trades:read']), approve, /lacks the scope releases:approve/);
    // The cutter's own token cannot approve: four eyes counts the issuer's principals.
    await refused(await as('carol', ['releases:approve']), approve, new RegExp(`carol cut ${id.replace(/\./g, '\\.')} and cannot approve it`));

    // Read-only commands need no token.
    const approvals = async () => {
      const check = await kepler(['gate', 'check', id, '--env', 'ci', '--json']);
      expect(check.stdout, check.stderr).not.toBe('');
      return (JSON.parse(check.stdout) as { gates: Array<{ gate: string; verdict: string; evidence: Record<string, unknown> }> }).gates.find((g) => g.gate === 'approvals')!;
    };
    expect(await approvals()).toMatchObject({ verdict: 'pending', evidence: { approvers: [], cutBy: 'carol' } });

    const approved = await kepler(approve, await as('dave', ['releases:approve']));
    expect(approved.code, approved.stderr).toBe(0);
    expect(await approvals()).toMatchObject({ verdict: 'pass', evidence: { approvers: ['dave'], cutBy: 'carol' } });
  }, 300_000);

  it('slot and topology operations refuse to run without a token when authentication is on', async () => {
    const env = { ...auth, KEPLER_AMQP_URL: 'amqp://guest:guest@127.0.0.1:1/', KEPLER_DATA_DIR: join(tmp.dir, 'ops-data') };
    const cutover = await runCli(['slot', 'cutover', 'green'], { cwd: tmp.dir, env: { ...env, KEPLER_TOKEN: undefined } });
    expect(cutover.code).toBe(2);
    expect(cutover.stderr).toMatch(/kepler slot cutover: needs an access token in KEPLER_TOKEN with the scope slots:operate/);
    const actor = await runCli(['slot', 'drain', 'blue', '--actor', 'mallory'], { cwd: tmp.dir, env: { ...env, KEPLER_TOKEN: await idp.token('erin', ['slots:operate']) } });
    expect(actor.code).toBe(2);
    expect(actor.stderr).toMatch(/--actor is refused/);
    const apply = await runCli(['topology', 'apply'], { cwd: tmp.dir, env: { ...env, KEPLER_TOKEN: await idp.token('erin', ['releases:approve']) } });
    expect(apply.code).toBe(2);
    expect(apply.stderr).toMatch(/lacks the scope slots:operate/);
  });
});

const amqpUrl = await rabbitMq();
const vhost = amqpUrl ? await TestVhost.create('operator-auth') : undefined;
afterAll(() => vhost?.delete());

describe.skipIf(!vhost)('a cut-over with authentication on, in a fresh virtual host', () => {
  it('records the token’s principal as who ran each step', async () => {
    const tmp = tempDir('kepler-slot-auth-');
    const idp = await TestIdentityProvider.start([{ id: 'erin', name: 'Erin Operator' }]);
    try {
      const env = {
        KEPLER_AUTH_ISSUER: idp.issuer,
        KEPLER_AUTH_AUDIENCE: AUDIENCE,
        KEPLER_AMQP_URL: vhost!.amqpUrl,
        KEPLER_AMQP_MANAGEMENT_URL: MANAGEMENT_URL,
        KEPLER_DATA_DIR: join(tmp.dir, 'data'),
        KEPLER_ACTOR: undefined,
      };
      const token = await idp.token('erin', ['slots:operate']);
      // The first step only binds blue's feed queue: no slot's processes need to run for it.
      const cutover = await runCli(['slot', 'cutover', 'blue', '--until-step', '1'], { env: { ...env, KEPLER_TOKEN: token } });
      expect(cutover.stdout + cutover.stderr).toMatch(/cut-over \S+: \S+ \(1\/\d+ steps\)/);
      // slot status records nothing: no token needed.
      const status = await runCli(['slot', 'status', '--json'], { env: { ...env, KEPLER_TOKEN: undefined } });
      expect(status.code, status.stderr).toBe(0);
      const parsed = JSON.parse(status.stdout) as { cutovers: Array<{ last: { actor: { subject: string; clientId?: string; name?: string } } | null }> };
      expect(parsed.cutovers[0]!.last!.actor).toEqual({ subject: 'erin', clientId: 'erin', name: 'Erin Operator' });
    } finally {
      await idp.stop();
      tmp.cleanup();
    }
  }, 120_000);
});
