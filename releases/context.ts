// What every release use case shares: the pipeline clone, the event store's
// journal, the clock, the registries, the clone's local scratch space, and
// where warnings go. The use cases (cutting.ts, promoting.ts, controls.ts...)
// take one of these; the ReleaseService façade makes it once.
import { mkdtemp, rm } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Actor, EventStore } from '../eventstore/index.js';
import type { EventStoreConfig } from '../stores/index.js';
import { Journal } from './journal.js';
import { NpmRegistry, type RegistryClient } from './registry.js';
import type { PipelineRepository } from './repository.js';

/** Runs `kepler regress` for the regression gate; the report lands in reportDir. */
export type RegressionRunner = (spec: {
  prod: string;
  uat: string;
  reportDir: string;
  failOn: 'new' | 'any';
  known: string | null;
  reconcilers: string | null;
}) => Promise<{ exitCode: number; output: string }>;

export interface ReleaseServiceOptions {
  repo: PipelineRepository;
  store: EventStore;
  actor: Actor;
  clock?: () => Date;
  env?: NodeJS.ProcessEnv;
  registry?: (url: string) => RegistryClient;
  regression?: RegressionRunner;
  /** The event store a Kepler config file describes (the replay gate's source). */
  sourceStore?: (configFile: string) => EventStoreConfig;
  /** node_modules of an installation of Kepler's dependencies, for loading a packed candidate's code. */
  nodeModules: string;
  /** Seams for tests that stage a race or a crash around the push. */
  hooks?: { beforePush?: (what: string) => Promise<void>; afterPush?: (what: string) => Promise<void> };
  warn?: (line: string) => void;
}

/** How many times a command syncs and tries again after losing a push race. */
export const MAX_ROUNDS = 5;

export class ReleaseContext {
  readonly journal: Journal;
  readonly now: () => Date;

  constructor(readonly options: ReleaseServiceOptions) {
    this.journal = new Journal(options.store, options.actor);
    this.now = options.clock ?? (() => new Date());
  }

  get repo(): PipelineRepository {
    return this.options.repo;
  }

  get actor(): Actor {
    return this.options.actor;
  }

  warn(line: string): void {
    this.options.warn?.(line);
  }

  registryFor(url: string): RegistryClient {
    return this.options.registry ? this.options.registry(url) : new NpmRegistry(url, this.options.env ?? process.env);
  }

  /** A directory under the clone's .kepler/, made if missing. */
  ensureLocal(...parts: string[]): string {
    const dir = this.repo.localPath(...parts);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Where a candidate cut without a registry keeps its tarball. */
  localArtifact(name: string, version: string): string {
    return this.repo.localPath('artifacts', `${name.replace('/', '-').replace('@', '')}-${version}.tgz`);
  }

  /** A fresh directory under .kepler/work for `use`, removed when it is done. */
  async withScratch<T>(prefix: string, use: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(this.ensureLocal('work'), prefix));
    try {
      return await use(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Up to date with the remote, and nothing uncommitted: what a candidate
   * freezes and what a promotion changes is what git holds.
   */
  async syncClean(): Promise<void> {
    const changed = await this.repo.git.changedFiles();
    if (changed.length > 0) throw new Error(`the pipeline repository has uncommitted changes (${changed.join(', ')}): commit them first`);
    await this.repo.git.syncToRemote();
  }
}

/** The error of a command that lost the push race MAX_ROUNDS times. */
export function keptMoving(environment: string): Error {
  return new Error(`${environment}: the pipeline repository kept moving; gave up after ${MAX_ROUNDS} rounds`);
}
