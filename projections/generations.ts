import type { ReadStore } from '../readstore/index.js';
import { collectionOf } from './runner.js';

/** Which physical generation of each read model queries should use; a rebuild swaps it atomically. */
export class LiveReadModels {
  constructor(private readonly reads: ReadStore) {}

  static settingKey(projection: string): string {
    return `readmodel:${projection}:generation`;
  }

  async generation(projection: string): Promise<number> {
    const value = await this.reads.getSetting(LiveReadModels.settingKey(projection));
    return value === null ? 1 : Number(value);
  }

  async collection(projection: string): Promise<string> {
    return collectionOf(projection, await this.generation(projection));
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
