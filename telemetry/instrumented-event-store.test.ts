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

describe('InstrumentedEventStore reads, through the SDK', () => {
  it('times each readStream and readStreams call once, as appends are timed, with an error type when a read fails', async () => {
    const { startTelemetry, stopTelemetry } = await import('./sdk.js');
    const { prometheusExposition } = await import('./prometheus.js');
    await startTelemetry({ name: 'kepler', version: 'test', environment: 'test', slot: 'blue', roles: ['api'] }, {});
    const inner = SqliteEventStore.open(join(mkdtempSync(join(tmpdir(), 'kepler-instrumented-')), 'events.db'));
    try {
      const store = new InstrumentedEventStore(inner, 'sqlite');
      const event = (id: string) => ({ id, type: 'T', data: {}, metadata: { correlationId: id } });
      await store.append('s-1', [event('e-1'), event('e-2')], 'no_stream');
      await store.append('s-2', [event('e-3')], 'no_stream');
      expect(await store.readStream('s-1')).toHaveLength(2);
      expect(await store.readStream('s-1', { fromRevision: 1 })).toHaveLength(1);
      const many = await store.readStreams!(['s-1', 's-2', 'missing']);
      expect([...many.keys()].sort()).toEqual(['s-1', 's-2']);
      const count = (text: string, operation: string, error = '') =>
        Number(new RegExp(`^db_client_operation_duration_seconds_count\\{db_system_name="sqlite",db_operation_name="${operation}"${error && `,error_type="${error}"`}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      let text = (await prometheusExposition())!;
      expect(count(text, 'read_stream')).toBe(2);
      expect(count(text, 'read_streams')).toBe(1); // one a call, not one a stream or an event
      expect(count(text, 'append')).toBe(2);
      const failing = new InstrumentedEventStore({ readStream: async () => Promise.reject(new Error('gone')) } as unknown as EventStore, 'sqlite');
      await expect(failing.readStream('s-1')).rejects.toThrow('gone');
      text = (await prometheusExposition())!;
      expect(count(text, 'read_stream', 'error')).toBe(1);
      expect(count(text, 'read_stream')).toBe(2);
    } finally {
      await inner.close();
      await stopTelemetry();
    }
  });
});
