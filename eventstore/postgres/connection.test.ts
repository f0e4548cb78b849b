import { describe, expect, it } from 'vitest';
import { StoreBusyError, StoreUnavailableError } from '../port.js';
import { isTransient, poolConfig, redactUrl, toStoreError } from './connection.js';

describe('PostgreSQL connection settings', () => {
  it('has defaults for the pool and every timeout', () => {
    const { config, resolved } = poolConfig('postgres://kepler@db:6543/events');
    expect(resolved).toEqual({ poolSize: 10, statementTimeoutMs: 30_000, lockTimeoutMs: 30_000, connectTimeoutMs: 10_000, applicationName: 'kepler' });
    expect(config).toMatchObject({ host: 'db', port: 6543, database: 'events', user: 'kepler', max: 10, statement_timeout: 30_000, query_timeout: 35_000, lock_timeout: 30_000, connectionTimeoutMillis: 10_000 });
  });

  it('takes Kepler settings from the URL, explicit options over them, and does not pass them on', () => {
    const { config, resolved } = poolConfig('postgres://db/e?pool_size=3&statement_timeout=500&lock_timeout=200&connect_timeout=2&application_name=x', { poolSize: 7 });
    expect(resolved).toEqual({ poolSize: 7, statementTimeoutMs: 500, lockTimeoutMs: 200, connectTimeoutMs: 2_000, applicationName: 'x' });
    expect(config).not.toHaveProperty('pool_size');
  });

  it("reads sslmode with libpq's meanings: require encrypts without checking, verify-full checks", () => {
    expect(poolConfig('postgres://db/e?sslmode=require').config.ssl).toMatchObject({ rejectUnauthorized: false });
    expect(poolConfig('postgres://db/e?sslmode=verify-full').config.ssl).not.toMatchObject({ rejectUnauthorized: false });
    expect(poolConfig('postgres://db/e?sslmode=disable').config.ssl).toBe(false);
  });

  it('refuses what is not a PostgreSQL URL or a number, and hides passwords', () => {
    expect(() => poolConfig('mysql://db/e')).toThrow(/not a PostgreSQL URL/);
    expect(() => poolConfig('postgres://db/e?pool_size=many')).toThrow(/pool_size/);
    expect(() => poolConfig('postgres://db/e?pool_size=0')).toThrow(/pool_size/);
    expect(redactUrl('postgres://u:secret@db/e')).toBe('postgres://u:***@db/e');
  });

  it('maps a lock timeout to StoreBusyError and a lost connection to StoreUnavailableError', () => {
    expect(toStoreError(Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' }), 'append', 'db')).toBeInstanceOf(StoreBusyError);
    const lost = toStoreError(new Error('Connection terminated unexpectedly'), 'append', 'postgres://db/e');
    expect(lost).toBeInstanceOf(StoreUnavailableError);
    expect((lost as Error).message).toBe('PostgreSQL at postgres://db/e did not append: Connection terminated unexpectedly');
    const unique = Object.assign(new Error('duplicate key'), { code: '23505' });
    expect(toStoreError(unique, 'append', 'db')).toBe(unique);
    expect(isTransient(Object.assign(new Error('admin shutdown'), { code: '57P01' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransient(new Error('syntax error'))).toBe(false);
  });
});
