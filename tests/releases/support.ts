// Test support for releases: pipeline repositories in temporary directories, a
// release service over a real SQLite event store, and a real npm registry
// (Verdaccio, in this process, on a temporary store, with no uplinks).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, type Actor, type EventStore } from '../../eventstore/index.js';
import { DEFAULT_KEY_FILE, Git, initPipeline, PipelineRepository, ReleaseService, type Pipeline, type ReleaseServiceOptions } from '../../releases/index.js';
import { REPO_ROOT } from '../support/kepler.js';
import { tryStartServer } from '../support/servers.js';

export { REPO_ROOT };
export const NODE_MODULES = join(REPO_ROOT, 'node_modules');

export function tempDir(prefix: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const actor = (subject: string): Actor => ({ subject, clientId: 'kepler-cli' });

/** A pipeline repository made by `pipeline init`, its pipeline edited by `edit` (and committed). */
export async function makePipeline(dir: string, options: { registry?: string | null; remote?: string | null; edit?: (p: Pipeline) => void; profiles?: Record<string, unknown> } = {}): Promise<{ repo: PipelineRepository; key: string }> {
  const result = await initPipeline({ dir, registry: options.registry ?? null, remote: options.remote ?? null, keyFile: null, actor: actor('release-bot') });
  const repo = new PipelineRepository(result.dir);
  if (options.edit || options.profiles) {
    if (options.edit) {
      const pipeline = JSON.parse(readFileSync(repo.path('pipeline.json'), 'utf8')) as Pipeline;
      options.edit(pipeline);
      writeFileSync(repo.path('pipeline.json'), `${JSON.stringify(pipeline, null, 2)}\n`);
    }
    for (const [file, content] of Object.entries(options.profiles ?? {})) writeFileSync(repo.path('profiles', file), `${JSON.stringify(content, null, 2)}\n`);
    await repo.git.commit('test: adjust the pipeline', ['.'], actor('release-bot'));
    if (options.remote) await repo.git.push([]);
  }
  return { repo, key: readFileSync(join(result.dir, DEFAULT_KEY_FILE), 'utf8') };
}

/** Clones a pipeline repository's remote into dir (a second operator's clone). */
export async function clone(remote: string, dir: string): Promise<PipelineRepository> {
  await new Git(tmpdir()).run(['clone', '--quiet', remote, dir]);
  return new PipelineRepository(dir);
}

export class Clock {
  constructor(private t: number) {}
  now = (): Date => new Date(this.t);
  advance(ms: number): void {
    this.t += ms;
  }
  set(iso: string): void {
    this.t = Date.parse(iso);
  }
}

export function service(repo: PipelineRepository, store: EventStore, who: string, extra: Partial<ReleaseServiceOptions> = {}): ReleaseService {
  return new ReleaseService({ repo, store, actor: actor(who), nodeModules: NODE_MODULES, ...extra });
}

export function openStore(dir: string): SqliteEventStore {
  return SqliteEventStore.open(join(dir, 'events.db'));
}

export interface Registry {
  url: string;
  token: string;
  storage: string;
  stop(): Promise<void>;
}

/** Verdaccio 6.8 in this process: a temporary store, no uplinks, one user whose token publishes. */
export async function startRegistry(): Promise<Registry | undefined> {
  return tryStartServer('Verdaccio', async () => {
    const { runServer } = (await import('verdaccio')) as unknown as { runServer(config: unknown): Promise<Server> };
    const dir = mkdtempSync(join(tmpdir(), 'kepler-verdaccio-'));
    const storage = join(dir, 'storage');
    const app = await runServer({
      self_path: dir,
      storage,
      auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: 10 } },
      uplinks: {},
      packages: { '**': { access: '$authenticated', publish: '$authenticated', unpublish: '$authenticated' } },
      security: { api: { jwt: { sign: { expiresIn: '1d' } } } },
      log: { type: 'stdout', format: 'json', level: 'error' },
      web: { enable: false },
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}/`;
    const response = await fetch(`${url}-/user/org.couchdb.user:releaser`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'releaser', password: 'release-password' }),
    });
    if (response.status !== 201) throw new Error(`Verdaccio refused to create a user: ${response.status} ${await response.text()}`);
    const { token } = (await response.json()) as { token: string };
    return {
      url,
      token,
      storage,
      stop: async () => {
        await new Promise<void>((resolve) => app.close(() => resolve()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
