// The release commands as an operator runs them: the compiled `kepler` CLI in
// child processes, on the Kepler checkout these tests run from.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayPart, Git, type Pipeline } from '../../releases/index.js';
import { KeplerServer, REPO_ROOT, runCli } from '../support/kepler.js';
import { tempDir } from './support.js';

let tmp: ReturnType<typeof tempDir>;
let repo: string;
// A developer's checkout may have changes; the candidate records whether it had.
const isDirty = () => execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
const cutArgs = ['--allow-dirty'];

beforeAll(() => {
  tmp = tempDir('kepler-release-cli-');
  repo = join(tmp.dir, 'pipeline');
});
afterAll(() => tmp?.cleanup());

const kepler = (args: string[], actor = 'carol') => runCli([...args, '--repo', repo, '--actor', actor], { cwd: tmp.dir });

describe('kepler release commands', () => {
  it('init, two cuts on one day, a promotion to dev with its commit and tag, and prod refused naming the upstream gate', async () => {
    const init = await runCli(['pipeline', 'init', '--repo', repo], { cwd: tmp.dir });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('environments: dev, ci, sit, qa, perf, uat, preprod, prod, dr');

    let first: { id: string; digest: string };
    let second: { id: string; digest: string };
    const dirty = isDirty();
    for (;;) {
      const day = dayPart(new Date());
      const a = await kepler(['release', 'cut', '--json', ...cutArgs]);
      expect(a.code, a.stderr).toBe(0);
      const b = await kepler(['release', 'cut', '--json', ...cutArgs]);
      expect(b.code, b.stderr).toBe(0);
      first = JSON.parse(a.stdout) as typeof first;
      second = JSON.parse(b.stdout) as typeof second;
      // Cut across midnight UTC, the two are .0 of two days: cut the pair again on the new day.
      if (dayPart(new Date()) === day) {
        expect(first.id).toBe(`${day}.0`);
        expect(second.id).toBe(`${day}.1`);
        break;
      }
    }
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const manifest = JSON.parse(readFileSync(join(repo, 'candidates', first.id, 'manifest.json'), 'utf8')) as { source: { dirty: boolean; commit: string }; createdBy: { subject: string } };
    if (isDirty() === dirty) expect(manifest.source.dirty).toBe(dirty);
    expect(manifest.source).toMatchObject({ commit: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() });
    expect(manifest.createdBy.subject).toBe('carol');

    const dev = await kepler(['promote', first.id, '--to', 'dev']);
    expect(dev.code, dev.stderr).toBe(0);
    expect(dev.stdout).toMatch(new RegExp(`dev now has ${first.id.replace(/\./g, '\\.')} in slot blue \\(live\\)`));
    const git = new Git(repo);
    expect((await git.log(1))[0]!.subject).toBe(`promote dev to ${first.id} (slot blue, live)`);
    expect((await git.tags('promote/')).map((t) => t.name)).toEqual([`promote/dev/${first.id}`]);

    const prod = await kepler(['promote', first.id, '--to', 'prod']);
    expect(prod.code).toBe(1);
    expect(prod.stdout).toContain(`promotion of ${first.id} to prod REFUSED`);
    expect(prod.stderr).toContain(`kepler promote: gate upstream failed: ${first.id} is not verified in preprod (phase staging)`);
    expect((await git.tags('promote/')).length).toBe(1);
  }, 300_000);

  it('gate check answers 0 pass, 1 fail, 2 pending, 3 error; approvals refuse the cutter', async () => {
    const [id] = execFileSync('ls', ['-1', join(repo, 'candidates')], { encoding: 'utf8' }).trim().split('\n').sort();
    // ci asks for an approval in this pipeline.
    const file = join(repo, 'pipeline.json');
    const pipeline = JSON.parse(readFileSync(file, 'utf8')) as Pipeline;
    pipeline.phases[0]!.environments[1]!.gates.push({ gate: 'approvals', required: 1 });
    writeFileSync(file, JSON.stringify(pipeline, null, 2));
    await new Git(repo).commit('ci needs an approval', ['pipeline.json'], { subject: 'carol' });

    expect((await kepler(['gate', 'check', id!, '--env', 'dev'])).code).toBe(0);
    const prod = await kepler(['gate', 'check', id!, '--env', 'prod', '--json']);
    expect(prod.code).toBe(1);
    expect(JSON.parse(prod.stdout)).toMatchObject({ verdict: 'fail' });
    const ci = await kepler(['gate', 'check', id!, '--env', 'ci']);
    expect(ci.code).toBe(2);
    expect(ci.stdout).toMatch(/PENDING approvals +0 of 1 approval/);
    expect((await kepler(['gate', 'check', '2000.101.0', '--env', 'dev'])).code).toBe(3);
    expect((await kepler(['gate', 'check', id!, '--env', 'nowhere'])).code).toBe(3);
    expect((await kepler(['gate', 'check', id!])).code).toBe(3);

    const self = await kepler(['approve', id!, '--env', 'ci'], 'carol');
    expect(self.code).toBe(1);
    expect(self.stderr).toContain(`carol cut ${id} and cannot approve it`);
    expect((await kepler(['approve', id!, '--env', 'ci'], 'alice')).code).toBe(0);
    expect((await kepler(['gate', 'check', id!, '--env', 'ci'])).code).toBe(0);
    expect((await kepler(['promote', id!, '--to', 'ci', '--plan'])).stdout).toMatch(/would promote ci/);
  }, 300_000);

  it('verifies, diffs, validates and renders, reports status, and serves from a profile', async () => {
    const ids = execFileSync('ls', ['-1', join(repo, 'candidates')], { encoding: 'utf8' }).trim().split('\n').sort();
    const verify = await kepler(['release', 'verify', ids[0]!]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/VERIFIED[\s\S]*ok {3}signature: Ed25519/);
    const diff = await kepler(['release', 'diff', ids[0]!, ids[1]!, '--json']);
    expect(diff.code).toBe(0);
    expect(JSON.parse(diff.stdout)).toMatchObject({ from: { id: ids[0] }, to: { id: ids[1] }, configuration: [] });

    expect((await kepler(['profile', 'validate'])).stdout).toMatch(/prod {5}valid sha256:/);
    const nomad = await kepler(['profile', 'render', '--env', 'prod', '--format', 'nomad', '--candidate', ids[0]!, '--slot', 'green']);
    expect(nomad.code, nomad.stderr).toBe(0);
    expect(JSON.parse(nomad.stdout)).toMatchObject({ Job: { ID: 'kepler-prod-green', Meta: { 'kepler.candidate': ids[0] } } });
    const shared = await kepler(['profile', 'render', '--env', 'prod', '--format', 'nomad', '--candidate', ids[0]!, '--shared']);
    expect(shared.code, shared.stderr).toBe(0);
    expect((JSON.parse(shared.stdout) as { Job: { ID: string; TaskGroups: Array<{ Name: string }> } }).Job).toMatchObject({ ID: 'kepler-prod-shared', TaskGroups: [{ Name: 'topology' }, { Name: 'gateway' }] });
    writeFileSync(join(repo, 'profiles', 'qa.json'), JSON.stringify({ limits: { memoryMB: 1 } }));
    const invalid = await kepler(['profile', 'validate']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('unknown key "memoryMB"');
    execFileSync('git', ['checkout', '--', 'profiles/qa.json'], { cwd: repo });

    const status = await kepler(['pipeline', 'status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout) as { environments: Array<{ environment: string; live: { candidate: string } | null }> };
    expect(parsed.environments.find((e) => e.environment === 'dev')!.live).toMatchObject({ candidate: ids[0] });
    expect((await kepler(['pipeline', 'status'])).stdout).toMatch(/build:\n {2}dev +\S+ live in blue/);

    const server = await KeplerServer.start(join(tmp.dir, 'dev-data'), { args: ['--profile', join(repo, 'profiles', 'base.json'), '--env', 'dev'] });
    try {
      expect(server.logs).toMatch(/kepler: serving profile dev sha256:[0-9a-f]{64}/);
      expect((await server.get('/status')).status).toBe(200);
    } finally {
      await server.stop();
    }
    const wrong = await runCli(['serve', '--profile', join(repo, 'profiles', 'base.json'), '--env', 'prod', '--port', '0'], { cwd: tmp.dir });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/needs the variable AMQP_PASSWORD|runs processors in 2 partition/);
  }, 300_000);
});
