import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventStoreContract } from '../contract.js';
import { SqliteEventStore } from './sqlite-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'kepler-es-'));
eventStoreContract('SQLite', async () => SqliteEventStore.open(join(dir, 'contract.db')));

describe('SQLite event store across connections', () => {
  it('a second connection (as another process would) sees appends and wakes live subscriptions', async () => {
    const path = join(dir, 'shared.db');
    const writer = SqliteEventStore.open(path);
    const reader = SqliteEventStore.open(path);
    const subscription = reader.subscribe(0);
    const seen: string[] = [];
    const reading = (async () => {
      for await (const batch of subscription) {
        seen.push(...batch.events.map((e) => e.type));
        if (seen.length === 2) break;
      }
    })();
    await writer.append('x-1', [{ id: 'a', type: 'One', data: {}, metadata: { correlationId: 'x' } }], 'no_stream');
    await new Promise((r) => setTimeout(r, 30));
    await writer.append('x-1', [{ id: 'b', type: 'Two', data: {}, metadata: { correlationId: 'x' } }], 0);
    await reading;
    await subscription.close();
    expect(seen).toEqual(['One', 'Two']);
    await writer.close();
    await reader.close();
  });
});
