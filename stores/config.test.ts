import { describe, expect, it } from 'vitest';
import { describeStore, storesConfig } from './config.js';

describe('storesConfig', () => {
  it('is the embedded SQLite files without a URL', () => {
    expect(storesConfig({}, {}, '/d')).toEqual({ eventStore: { kind: 'sqlite', path: '/d/events.db' }, readStore: { kind: 'sqlite', path: '/d/read.db' } });
  });

  it('reads the server from the URL scheme, the environment over the file', () => {
    const config = storesConfig(
      { eventStore: { url: 'esdb://es:2113', poolSize: 4, statementTimeoutMs: 5_000 }, readStore: { url: 'mongodb://m/', database: 'fromfile' } },
      { KEPLER_EVENTSTORE_URL: 'postgresql://pg/kepler', KEPLER_READSTORE_URL: 'postgres://pg/reads' },
      '/d',
    );
    expect(config.eventStore).toEqual({ kind: 'postgres', url: 'postgresql://pg/kepler', settings: { poolSize: 4, statementTimeoutMs: 5_000 }, migrate: true });
    expect(config.readStore).toEqual({ kind: 'postgres', url: 'postgres://pg/reads', settings: {}, migrate: true });
  });

  it('keeps KEPLER_MONGODB_URL and its database and pool size', () => {
    const config = storesConfig({}, { KEPLER_MONGODB_URL: 'mongodb://m/', KEPLER_MONGODB_DATABASE: 'k', KEPLER_MONGODB_POOL_SIZE: '3' }, '/d');
    expect(config.readStore).toEqual({ kind: 'mongodb', url: 'mongodb://m/', database: 'k', poolSize: 3 });
    expect(storesConfig({}, { KEPLER_EVENTSTORE_URL: 'esdb://a:2113?tls=false' }, '/d').eventStore).toEqual({ kind: 'eventstoredb', url: 'esdb://a:2113?tls=false' });
  });

  it('turns migration at start off from the environment or the file, and waits as configured', () => {
    const url = 'postgres://pg/kepler';
    expect(storesConfig({ eventStore: { url, migrate: false } }, {}, '/d').eventStore).toMatchObject({ migrate: false });
    expect(storesConfig({ eventStore: { url } }, { KEPLER_MIGRATE_ON_START: '0' }, '/d').eventStore).toMatchObject({ migrate: false });
    expect(storesConfig({ storeWaitMs: 10 }, { KEPLER_STORE_WAIT_MS: '2500' }, '/d').storeWaitMs).toBe(2500);
  });

  it('refuses URLs it cannot serve and settings that are not numbers, naming them', () => {
    expect(() => storesConfig({}, { KEPLER_EVENTSTORE_URL: 'mysql://db/x' }, '/d')).toThrow(/postgres:\/\/, esdb:\/\/.*"mysql:"/);
    expect(() => storesConfig({}, { KEPLER_READSTORE_URL: 'redis://r' }, '/d')).toThrow(/"redis:"/);
    expect(() => storesConfig({}, { KEPLER_MIGRATE_ON_START: 'maybe' }, '/d')).toThrow(/KEPLER_MIGRATE_ON_START/);
    expect(() => storesConfig({}, { KEPLER_STORE_WAIT_MS: '-1' }, '/d')).toThrow(/KEPLER_STORE_WAIT_MS/);
  });

  it('describes a store without its password', () => {
    expect(describeStore({ kind: 'postgres', url: 'postgres://kepler:secret@pg:5432/k?sslmode=require', settings: {}, migrate: true })).toBe('postgres://kepler:***@pg:5432/k?sslmode=require');
    expect(describeStore({ kind: 'mongodb', url: 'mongodb://u:p@m/', database: 'k' })).toBe('mongodb://u:***@m/ (database k)');
    expect(describeStore({ kind: 'sqlite', path: '/d/events.db' })).toBe('sqlite:/d/events.db');
  });
});
