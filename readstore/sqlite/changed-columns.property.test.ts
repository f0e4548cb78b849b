// The SQLite read store writes a rewrite by a statement that sets only the indexed columns the
// writer says changed, and checks the others against the row (sqlite-read-store.ts, putDocument).
// Whatever a writer says it read (the truth, a lie, nothing, "none stored"), the table must end as
// the upsert that sets every column leaves it: here, a twin store whose every write says all fields
// changed, which takes that upsert, given the same writes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Document, DocumentWrite } from '../port.js';
import { SqliteReadStore } from './sqlite-read-store.js';

const FIELDS = ['status', 'account', 'isin'] as const;
const dir = mkdtempSync(join(tmpdir(), 'kepler-rs-changed-'));

// Values of every kind a column can hold, some equal in SQL (1, 1.0, true) and some not ('1').
const value = fc.constantFrom<unknown>(null, undefined, 'PENDING', 'BOOKED', '1', 1, 2, 1.5, true, false, { nested: 1 });
const fields: fc.Arbitrary<Document> = fc.record({ status: value, account: value, isin: value }, { requiredKeys: [] });
const id = fc.constantFrom('T1', 'T2', 'T3');
const position = fc.integer({ min: 1, max: 40 });
const before = fc.oneof(fc.constant<Document | null | undefined>(undefined), fc.constant(null), fields);
const write: fc.Arbitrary<DocumentWrite> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('put' as const), collection: fc.constant('trades'), id, doc: fields, position, before }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), collection: fc.constant('trades'), id, position }) },
);

/** A before no value equals: every field changed, so the store takes the upsert that sets them all. */
const NEVER_STORED = { never: 'stored' };
const everyFieldChanged = (w: DocumentWrite): DocumentWrite =>
  w.kind === 'put' ? { ...w, before: Object.fromEntries(FIELDS.map((field) => [field, NEVER_STORED])) } : w;

function rows(path: string): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT id, doc, position, deleted, ${FIELDS.map((f) => `f_${f}, typeof(f_${f})`).join(', ')} FROM rm_trades ORDER BY id`,
      )
      .raw()
      .all();
  } finally {
    db.close();
  }
}

describe('SQLite read store: a rewrite that sets only the columns said to change (property)', () => {
  it('leaves the table as the upsert that sets every column does, whatever the writer says it read', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(write, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }), async (batches) => {
        run += 1;
        const told = join(dir, `told-${run}.db`);
        const twin = join(dir, `twin-${run}.db`);
        const stores = [SqliteReadStore.open(told), SqliteReadStore.open(twin)] as const;
        try {
          for (const store of stores) await store.ensureCollection('trades', FIELDS);
          for (const batch of batches) {
            await stores[0].write(batch);
            await stores[1].write(batch.map(everyFieldChanged));
          }
        } finally {
          for (const store of stores) await store.close();
        }
        expect(rows(told)).toEqual(rows(twin));
      }),
      { numRuns: 150 },
    );
  });
});
