import type { ReadStore } from '../readstore/index.js';
import { collectionOf } from '../projections/index.js';

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
}
