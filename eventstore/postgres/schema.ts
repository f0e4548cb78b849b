// The event store's tables and its append function, as versioned migrations.
//
// A migration is applied once, in order, inside a transaction that also records
// it in kepler_schema_migrations; a transaction-scoped advisory lock lets several
// processes start at once without applying one twice. Applied migrations are
// never edited: a change is a new migration.
import type { Pool, PoolClient } from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Serialises writers (see kepler_append) and, under another key, migrations. */
export const APPEND_LOCK = { space: 1_801_807_218, key: 1 } as const;
const MIGRATION_LOCK = { space: 1_801_807_218, key: 2 } as const;
/** NOTIFY channel on which kepler_append announces the new head. */
export const EVENTS_CHANNEL = 'kepler_events';

export const EVENT_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, checkpoints and the append function',
    sql: `
      CREATE TABLE kepler_events (
        position    bigint      PRIMARY KEY,
        stream      text        NOT NULL,
        revision    bigint      NOT NULL,
        id          text        NOT NULL,
        type        text        NOT NULL,
        data        json        NOT NULL,
        metadata    json        NOT NULL,
        recorded_at timestamptz NOT NULL,
        CONSTRAINT kepler_events_stream_revision UNIQUE (stream, revision)
      );

      CREATE TABLE kepler_checkpoints (
        name     text   PRIMARY KEY,
        position bigint NOT NULL
      );

      -- Appends a group of writes in one transaction. Writers are serialised by a
      -- transaction-scoped advisory lock taken before the head is read and held
      -- until commit, so positions are handed out in commit order: a reader never
      -- sees a position while a smaller one can still appear (see the README).
      --
      -- Appends (one entry per stream append, in order): stream, expected revision
      -- (-1 no stream, -2 any, else the revision), the write it belongs to, its number
      -- of events. Events (flattened, in order): the append they belong to (1-based),
      -- their place in it (1-based) and their fields.
      -- Checkpoints: one per write at most, stored only if every append of that
      -- write succeeded. Returns per append: ok, the stream's revision afterwards
      -- (or its actual revision, -1 for none, when refused), the position of its
      -- last event (or of the head for an empty append; null when refused).
      CREATE FUNCTION kepler_append(
        p_streams text[], p_expected bigint[], p_writes int[], p_counts int[],
        p_event_appends int[], p_event_indexes int[], p_ids text[], p_types text[], p_data text[], p_metadata text[],
        p_checkpoint_writes int[], p_checkpoint_names text[], p_checkpoint_positions bigint[]
      ) RETURNS TABLE (ok boolean, revision bigint, last_position bigint)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        v_count int := coalesce(array_length(p_streams, 1), 0);
        v_before bigint[];
        v_first bigint[];
        v_after bigint[];
        v_last bigint[];
        v_failed_writes int[] := '{}';
        v_head bigint;
        v_start_head bigint;
        v_current bigint;
        r record;
      BEGIN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
          -- Each statement below must see what the previous lock holder committed.
          RAISE EXCEPTION 'kepler_append runs at READ COMMITTED, not %', current_setting('transaction_isolation');
        END IF;
        PERFORM pg_advisory_xact_lock(${APPEND_LOCK.space}, ${APPEND_LOCK.key});
        SELECT coalesce(max(position), 0) INTO v_head FROM kepler_events;
        v_start_head := v_head;
        v_before := array_fill(NULL::bigint, ARRAY[v_count]);
        v_first := array_fill(NULL::bigint, ARRAY[v_count]);
        v_after := array_fill(NULL::bigint, ARRAY[v_count]);
        v_last := array_fill(NULL::bigint, ARRAY[v_count]);
        FOR r IN
          SELECT a.n, a.stream, a.expected, a.write, s.current,
                 lag(a.n) OVER (PARTITION BY a.stream ORDER BY a.n) AS previous
          FROM unnest(p_streams, p_expected, p_writes) WITH ORDINALITY AS a(stream, expected, write, n)
          LEFT JOIN LATERAL (SELECT max(e.revision) AS current FROM kepler_events e WHERE e.stream = a.stream) s ON true
          ORDER BY a.n
        LOOP
          -- A stream appended to earlier in this call stands where that append left it.
          v_current := CASE WHEN r.previous IS NULL THEN coalesce(r.current, -1) ELSE v_after[r.previous] END;
          v_after[r.n] := v_current;
          IF r.expected = -2 OR r.expected = v_current THEN
            v_before[r.n] := v_current;
            v_first[r.n] := v_head + 1;
            v_head := v_head + p_counts[r.n];
            v_after[r.n] := v_current + p_counts[r.n];
            v_last[r.n] := v_head;
          ELSE
            v_failed_writes := v_failed_writes || r.write;
          END IF;
        END LOOP;

        IF v_head > v_start_head THEN
          INSERT INTO kepler_events (position, stream, revision, id, type, data, metadata, recorded_at)
          SELECT a.first + e.k - 1, a.stream, a.before + e.k, e.id, e.type, e.data::json, e.metadata::json, clock_timestamp()
          FROM unnest(p_event_appends, p_event_indexes, p_ids, p_types, p_data, p_metadata) AS e(append, k, id, type, data, metadata)
          JOIN unnest(p_streams, v_before, v_first) WITH ORDINALITY AS a(stream, before, first, n) ON a.n = e.append
          WHERE a.first IS NOT NULL;
          PERFORM pg_notify('${EVENTS_CHANNEL}', v_head::text);
        END IF;

        INSERT INTO kepler_checkpoints (name, position)
        SELECT c.name, c.position
        FROM unnest(p_checkpoint_writes, p_checkpoint_names, p_checkpoint_positions) AS c(write, name, position)
        WHERE NOT (c.write = ANY (v_failed_writes))
        ON CONFLICT (name) DO UPDATE SET position = excluded.position;

        RETURN QUERY
          SELECT f.last IS NOT NULL, f.after, f.last
          FROM unnest(v_after, v_last) WITH ORDINALITY AS f(after, last, n)
          ORDER BY f.n;
      END
      $fn$;
    `,
  },
  {
    // Version 1 wrote every checkpoint of a group in one INSERT ... ON CONFLICT, which PostgreSQL
    // refuses when one name comes twice ("cannot affect row a second time"), failing every write of
    // the group. The whole function again, as applied migrations are never edited.
    version: 2,
    name: 'one checkpoint name written by several writes of a group',
    sql: `
      -- Appends a group of writes in one transaction. Writers are serialised by a
      -- transaction-scoped advisory lock taken before the head is read and held
      -- until commit, so positions are handed out in commit order: a reader never
      -- sees a position while a smaller one can still appear (see the README).
      --
      -- Appends (one entry per stream append, in order): stream, expected revision
      -- (-1 no stream, -2 any, else the revision), the write it belongs to, its number
      -- of events. Events (flattened, in order): the append they belong to (1-based),
      -- their place in it (1-based) and their fields.
      -- Checkpoints: one per write at most, stored only if every append of that
      -- write succeeded; of one name's, the last write's. Returns per append: ok,
      -- the stream's revision afterwards (or its actual revision, -1 for none, when
      -- refused), the position of its last event (or of the head for an empty
      -- append; null when refused).
      CREATE OR REPLACE FUNCTION kepler_append(
        p_streams text[], p_expected bigint[], p_writes int[], p_counts int[],
        p_event_appends int[], p_event_indexes int[], p_ids text[], p_types text[], p_data text[], p_metadata text[],
        p_checkpoint_writes int[], p_checkpoint_names text[], p_checkpoint_positions bigint[]
      ) RETURNS TABLE (ok boolean, revision bigint, last_position bigint)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        v_count int := coalesce(array_length(p_streams, 1), 0);
        v_before bigint[];
        v_first bigint[];
        v_after bigint[];
        v_last bigint[];
        v_failed_writes int[] := '{}';
        v_head bigint;
        v_start_head bigint;
        v_current bigint;
        r record;
      BEGIN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
          -- Each statement below must see what the previous lock holder committed.
          RAISE EXCEPTION 'kepler_append runs at READ COMMITTED, not %', current_setting('transaction_isolation');
        END IF;
        PERFORM pg_advisory_xact_lock(${APPEND_LOCK.space}, ${APPEND_LOCK.key});
        SELECT coalesce(max(position), 0) INTO v_head FROM kepler_events;
        v_start_head := v_head;
        v_before := array_fill(NULL::bigint, ARRAY[v_count]);
        v_first := array_fill(NULL::bigint, ARRAY[v_count]);
        v_after := array_fill(NULL::bigint, ARRAY[v_count]);
        v_last := array_fill(NULL::bigint, ARRAY[v_count]);
        FOR r IN
          SELECT a.n, a.stream, a.expected, a.write, s.current,
                 lag(a.n) OVER (PARTITION BY a.stream ORDER BY a.n) AS previous
          FROM unnest(p_streams, p_expected, p_writes) WITH ORDINALITY AS a(stream, expected, write, n)
          LEFT JOIN LATERAL (SELECT max(e.revision) AS current FROM kepler_events e WHERE e.stream = a.stream) s ON true
          ORDER BY a.n
        LOOP
          -- A stream appended to earlier in this call stands where that append left it.
          v_current := CASE WHEN r.previous IS NULL THEN coalesce(r.current, -1) ELSE v_after[r.previous] END;
          v_after[r.n] := v_current;
          IF r.expected = -2 OR r.expected = v_current THEN
            v_before[r.n] := v_current;
            v_first[r.n] := v_head + 1;
            v_head := v_head + p_counts[r.n];
            v_after[r.n] := v_current + p_counts[r.n];
            v_last[r.n] := v_head;
          ELSE
            v_failed_writes := v_failed_writes || r.write;
          END IF;
        END LOOP;

        IF v_head > v_start_head THEN
          INSERT INTO kepler_events (position, stream, revision, id, type, data, metadata, recorded_at)
          SELECT a.first + e.k - 1, a.stream, a.before + e.k, e.id, e.type, e.data::json, e.metadata::json, clock_timestamp()
          FROM unnest(p_event_appends, p_event_indexes, p_ids, p_types, p_data, p_metadata) AS e(append, k, id, type, data, metadata)
          JOIN unnest(p_streams, v_before, v_first) WITH ORDINALITY AS a(stream, before, first, n) ON a.n = e.append
          WHERE a.first IS NOT NULL;
          PERFORM pg_notify('${EVENTS_CHANNEL}', v_head::text);
        END IF;

        -- One name may come from several writes of the group: the last one stored stands,
        -- as if the writes had been applied one after another.
        INSERT INTO kepler_checkpoints (name, position)
        SELECT DISTINCT ON (c.name) c.name, c.position
        FROM unnest(p_checkpoint_writes, p_checkpoint_names, p_checkpoint_positions) WITH ORDINALITY AS c(write, name, position, n)
        WHERE NOT (c.write = ANY (v_failed_writes))
        ORDER BY c.name, c.n DESC
        ON CONFLICT (name) DO UPDATE SET position = excluded.position;

        RETURN QUERY
          SELECT f.last IS NOT NULL, f.after, f.last
          FROM unnest(v_after, v_last) WITH ORDINALITY AS f(after, last, n)
          ORDER BY f.n;
      END
      $fn$;
    `,
  },
  {
    // appendGuarded: an append provided another stream (the guard) has not moved. A function of its own
    // around kepler_append rather than a new kepler_append: every other append calls the function it
    // called before, with the parameters it had, and the append's logic stays in one place.
    version: 3,
    name: 'appends conditional on another stream',
    sql: `
      -- kepler_append, provided p_guard_stream is still at p_guard_revision (-1: it has no event).
      -- The guard is read after the append lock is taken, at READ COMMITTED, so it sees every
      -- append committed before; kepler_append takes the same lock again (a transaction-scoped
      -- advisory lock is re-entrant) and holds it until commit, so no append to the guard stream
      -- can land between the check and the commit. Returns kepler_append's rows, each with the
      -- guard's revision; when the guard moved, one row (false, NULL, NULL, its revision) and
      -- nothing written.
      CREATE FUNCTION kepler_append_guarded(
        p_guard_stream text, p_guard_revision bigint,
        p_streams text[], p_expected bigint[], p_writes int[], p_counts int[],
        p_event_appends int[], p_event_indexes int[], p_ids text[], p_types text[], p_data text[], p_metadata text[],
        p_checkpoint_writes int[], p_checkpoint_names text[], p_checkpoint_positions bigint[]
      ) RETURNS TABLE (ok boolean, revision bigint, last_position bigint, guard_revision bigint)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        v_guard bigint;
      BEGIN
        IF current_setting('transaction_isolation') <> 'read committed' THEN
          RAISE EXCEPTION 'kepler_append_guarded runs at READ COMMITTED, not %', current_setting('transaction_isolation');
        END IF;
        PERFORM pg_advisory_xact_lock(${APPEND_LOCK.space}, ${APPEND_LOCK.key});
        SELECT coalesce(max(e.revision), -1) INTO v_guard FROM kepler_events e WHERE e.stream = p_guard_stream;
        IF v_guard <> p_guard_revision THEN
          RETURN QUERY SELECT false, NULL::bigint, NULL::bigint, v_guard;
          RETURN;
        END IF;
        RETURN QUERY
          SELECT a.ok, a.revision, a.last_position, v_guard
          FROM kepler_append(p_streams, p_expected, p_writes, p_counts, p_event_appends, p_event_indexes, p_ids, p_types, p_data, p_metadata,
                             p_checkpoint_writes, p_checkpoint_names, p_checkpoint_positions) a;
      END
      $fn$;
    `,
  },
];

export interface MigrationReport {
  applied: Array<{ version: number; name: string }>;
  current: number;
}

/** Applies the migrations this database has not had yet, in order. */
export async function migrate(pool: Pool, migrations: readonly Migration[] = EVENT_STORE_MIGRATIONS, table = 'kepler_schema_migrations'): Promise<MigrationReport> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [MIGRATION_LOCK.space, MIGRATION_LOCK.key]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set(await appliedVersions(client, table));
    const applied: MigrationReport['applied'] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query(`INSERT INTO ${table} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      applied.push({ version: migration.version, name: migration.name });
    }
    await client.query('COMMIT');
    return { applied, current: Math.max(0, ...done, ...applied.map((m) => m.version)) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The versions this database lacks; empty when it is up to date. */
export async function pendingMigrations(pool: Pool, migrations: readonly Migration[] = EVENT_STORE_MIGRATIONS, table = 'kepler_schema_migrations'): Promise<Migration[]> {
  const exists = await pool.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [table]);
  const done = new Set(exists.rows[0]?.found ? await appliedVersions(pool, table) : []);
  return migrations.filter((m) => !done.has(m.version));
}

async function appliedVersions(client: Pool | PoolClient, table: string): Promise<number[]> {
  return (await client.query<{ version: number }>(`SELECT version FROM ${table}`)).rows.map((row) => row.version);
}
