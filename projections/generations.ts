import type { ReadStore } from '../readstore/index.js';
import { collectionOf } from './runner.js';

/** How long a replaced generation stays readable after the switch, for queries already under way. */
export const DROP_GRACE_MS = 1000;

/** Which physical generation of each read model queries should use; a rebuild swaps it atomically. */
export class LiveReadModels {
  private readonly cache = new Map<string, { generation: number; until: number; collection?: string }>();

  /**
   * `cacheMs` lets a busy reader (the query API) skip the settings lookup for a
   * moment. Whoever switches generations waits longer than that before dropping
   * the old one (see DROP_GRACE_MS), so a cached answer never names a dropped collection.
   */
  constructor(
    private readonly reads: ReadStore,
    private readonly cacheMs = 0,
  ) {}

  static settingKey(projection: string): string {
    return `readmodel:${projection}:generation`;
  }

  async generation(projection: string): Promise<number> {
    const cached = this.cache.get(projection);
    if (cached && cached.until > Date.now()) return cached.generation;
    const value = await this.reads.getSetting(LiveReadModels.settingKey(projection));
    const generation = value === null ? 1 : Number(value);
    if (this.cacheMs > 0) this.cache.set(projection, { generation, until: Date.now() + this.cacheMs });
    return generation;
  }

  async collection(projection: string): Promise<string> {
    return collectionOf(projection, await this.generation(projection));
  }

  /**
   * The live collection while the cache holds its generation, at once (no promise for a reader
   * that can answer without one); undefined when `collection` has to look it up.
   */
  cachedCollection(projection: string): string | undefined {
    const cached = this.cache.get(projection);
    if (!cached || cached.until <= Date.now()) return undefined;
    let name = cached.collection;
    if (name === undefined) name = cached.collection = collectionOf(projection, cached.generation);
    return name;
  }

  /** The atomic swap: from now on queries read this generation. */
  async promote(projection: string, generation: number, retired: number): Promise<void> {
    await this.reads.setSetting(LiveReadModels.retiredKey(projection), String(retired));
    await this.reads.setSetting(LiveReadModels.settingKey(projection), String(generation));
  }

  static retiredKey(projection: string): string {
    return `readmodel:${projection}:retired`;
  }

  /** A generation replaced by a rebuild, waiting for whoever ran it to let go and drop it. */
  async retired(projection: string): Promise<number | null> {
    const value = await this.reads.getSetting(LiveReadModels.retiredKey(projection));
    return value === null || value === '' ? null : Number(value);
  }

  async clearRetired(projection: string): Promise<void> {
    await this.reads.setSetting(LiveReadModels.retiredKey(projection), '');
  }
}
