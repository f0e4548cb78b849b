import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventStore } from '../eventstore/index.js';
import { SqliteEventStore } from '../eventstore/index.js';
import { InstrumentedEventStore } from './instrumented-event-store.js';

describe('InstrumentedEventStore', () => {
  it('passes the inner store’s commitQueued through, and has none when the inner store has none', async () => {
    const inner = SqliteEventStore.open(join(mkdtempSync(join(tmpdir(), 'kepler-instrumented-')), 'events.db'));
    const store = new InstrumentedEventStore(inner, 'sqlite');
    expect(store.commitQueued!()).toBe(false);
    const appended = store.append('s-1', [{ id: 'e-1', type: 'T', data: {}, metadata: { correlationId: 'c-1' } }], 'no_stream');
    expect(store.commitQueued!()).toBe(true);
    await appended;
    expect(store.commitQueued!()).toBe(false);
    await store.close();
    const { commitQueued: _none, ...withoutIt } = { commitQueued: true, close: async () => {} };
    expect(new InstrumentedEventStore(withoutIt as unknown as EventStore, 'postgresql').commitQueued).toBeUndefined();
  });
});
