// An environment is a Kepler deployment described by its configuration: an
// event store and a read store. This module opens them and reads the live
// generation of read models, knowing how far each has got.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { describeStore, openEventStore, openReadStore, storesConfig, type EventStoreConfig, type ReadStoreConfig, type StoresConfig, type StoresFileSettings } from '../stores/index.js';
import type { EventStore } from '../eventstore/index.js';
import { checkpointOf, collectionOf, LiveReadModels } from '../projections/index.js';
import type { ReadStore } from '../readstore/index.js';
import type { Json } from './json.js';

export interface EnvironmentInput {
  /** How reports name the side: PROD, UAT, PROD-2... */
  label?: string;
  /** A Kepler JSON config file (what `kepler serve --config` reads). A relative dataDir in it is relative to the file. */
  configFile?: string;
  config?: StoresConfig;
  /** Already open stores, for in-process use; workers then run in this thread. */
  events?: EventStore;
  reads?: ReadStore | null;
}

/** What a worker needs to reach an environment's read store: plain data. */
export interface EnvironmentRef {
  label: string;
  describe: string;
  eventStore: EventStoreConfig | null;
  readStore: ReadStoreConfig | null;
}

/**
 * Environment variables (KEPLER_EVENTSTORE_URL...) describe the process's own
 * Kepler and would point PROD and UAT at the same stores, so they are ignored:
 * the file alone describes the environment.
 */
export function configFromFile(configFile: string): StoresConfig {
  let raw: StoresFileSettings & { dataDir?: unknown };
  try {
    raw = JSON.parse(readFileSync(configFile, 'utf8')) as StoresFileSettings & { dataDir?: unknown };
  } catch (error) {
    throw new Error(`cannot read config file ${configFile}: ${(error as Error).message}`);
  }
  const dataDir = typeof raw.dataDir === 'string' ? (isAbsolute(raw.dataDir) ? raw.dataDir : resolve(dirname(configFile), raw.dataDir)) : resolve('./data');
  return storesConfig(raw, {}, dataDir);
}

export function environmentRef(input: EnvironmentInput, fallbackLabel: string): EnvironmentRef {
  const config = input.config ?? (input.configFile ? configFromFile(input.configFile) : null);
  const label = input.label ?? fallbackLabel;
  if (!config) return { label, describe: input.events ? 'in-process stores' : 'none', eventStore: null, readStore: null };
  const describe = input.configFile ? `${resolve(input.configFile)} (${storeDescription(config)})` : storeDescription(config);
  return { label, describe, eventStore: config.eventStore, readStore: config.readStore };
}

function storeDescription(config: StoresConfig): string {
  return `events ${describeStore(config.eventStore)}, read models ${describeStore(config.readStore)}`;
}

export interface OpenEnvironment {
  ref: EnvironmentRef;
  events: EventStore;
  reads: ReadStore | null;
  close(): Promise<void>;
}

export async function openEnvironment(input: EnvironmentInput, fallbackLabel: string): Promise<OpenEnvironment> {
  const ref = environmentRef(input, fallbackLabel);
  const ownsEvents = !input.events;
  const ownsReads = input.reads === undefined;
  if (!input.events && !ref.eventStore) throw new Error(`${ref.label}: give a config file or an event store`);
  const events = input.events ?? (await openEventStore(ref.eventStore!));
  const reads = input.reads !== undefined ? input.reads : ref.readStore ? await openReadStore(ref.readStore) : null;
  return {
    ref,
    events,
    reads,
    async close() {
      if (ownsReads && reads) await reads.close();
      if (ownsEvents) await events.close();
    },
  };
}

/** The read models of one environment, as the regression sees them. */
export interface DocSource {
  /** Documents by id; absent ids have no document. */
  fetch(readModel: string, ids: readonly string[]): Promise<Map<string, Json>>;
  /** The event-store position the read model reflects; null when the environment does not know (no such projection). */
  position(readModel: string): Promise<number | null>;
}

/** Reads the live generation of each read model, as the query API does. */
export class ReadModelAccess implements DocSource {
  private readonly models: LiveReadModels;
  private generations = new Map<string, { generation: number; at: number }>();

  constructor(private readonly reads: ReadStore) {
    this.models = new LiveReadModels(reads);
  }

  private async generation(readModel: string): Promise<number> {
    const cached = this.generations.get(readModel);
    const now = Date.now();
    if (cached && now - cached.at < 1000) return cached.generation;
    const generation = await this.models.generation(readModel);
    this.generations.set(readModel, { generation, at: now });
    return generation;
  }

  async fetch(readModel: string, ids: readonly string[]): Promise<Map<string, Json>> {
    const collection = collectionOf(readModel, await this.generation(readModel));
    return (await this.reads.getMany(collection, ids)) as Map<string, Json>;
  }

  async position(readModel: string): Promise<number | null> {
    return this.reads.readCheckpoint(checkpointOf(readModel, await this.generation(readModel)));
  }
}

export const NO_DOCS: DocSource = {
  fetch: async () => new Map(),
  position: async () => null,
};
