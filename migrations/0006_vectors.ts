import { type Kysely, sql } from "kysely";

/**
 * Trend vectors live in Postgres, written in the same transaction as their embedding record, so
 * a crash can never leave one without the other (issue 15). Each gateway process searches them
 * through an HNSW index that is only a cache of this table:
 *
 * - `vector` is float32 little-endian (`4 × dimension` bytes); NULL is a tombstone, kept so a
 *   process catching up learns about deletes the same way it learns about writes.
 * - `xid` is the writing transaction (set again on every update). A reader that remembers
 *   `pg_snapshot_xmin` of its last read re-reads `xid >= xmin` and so never misses a row that
 *   committed late with a smaller id (a plain sequence would).
 * - `trend_vector_store.id` is this database's identity: an index persisted on disk for another
 *   database (one since recreated) is thrown away instead of answering with trends that no
 *   longer exist.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE trend_vectors (
      trend_id uuid PRIMARY KEY,
      model text NOT NULL,
      dimension integer NOT NULL CHECK (dimension > 0),
      vector bytea CHECK (vector IS NULL OR octet_length(vector) = 4 * dimension),
      source text NOT NULL,
      status text NOT NULL,
      created_at timestamptz NOT NULL,
      xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX trend_vectors_xid ON trend_vectors (xid)`.execute(db);
  await sql`
    CREATE TABLE trend_vector_store (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      singleton boolean NOT NULL DEFAULT true UNIQUE CHECK (singleton)
    )`.execute(db);
  await sql`INSERT INTO trend_vector_store DEFAULT VALUES`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS trend_vector_store`.execute(db);
  await sql`DROP TABLE IF EXISTS trend_vectors`.execute(db);
}
