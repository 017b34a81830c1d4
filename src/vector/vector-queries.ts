import { type Kysely, sql } from "kysely";

import type { Database } from "../db/types.js";
import type { CheckedItem } from "./vector-input.js";

/** Every SQL statement of the Postgres vector store (migrations/0006_vectors.ts). */

type Executor = Kysely<Database>;

export interface VectorRow {
  trend_id: string;
  model: string;
  dimension: number;
  vector: Buffer;
  source: string;
  status: string;
  created_at: Date;
}

/** A row read while catching up: `vector` is null when the row no longer belongs in the index. */
export interface ChangedRow {
  trend_id: string;
  vector: Buffer | null;
  source: string;
  status: string;
  created_at: Date;
}

/** Which rows one index holds: one dimension, and one model when the store is told which. */
export interface IndexScope {
  dimension: number;
  model: string;
}

export function encodeVector(vector: readonly number[]): Buffer {
  const out = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) out.writeFloatLE(vector[i]!, i * 4);
  return out;
}

export function decodeVector(bytes: Buffer): Float32Array {
  // Copied into an aligned buffer: a pg Buffer may start at any offset of its pool.
  const aligned = new Float32Array(bytes.length / 4);
  new Uint8Array(aligned.buffer).set(bytes);
  return aligned;
}

export async function storeIdentity(db: Executor): Promise<string> {
  const row = await db.selectFrom("trend_vector_store").select("id").executeTakeFirstOrThrow();
  return row.id;
}

/** Inserts or replaces; runs in the caller's transaction when given one (the embedding record's). */
export async function writeVectors(
  db: Executor,
  items: readonly CheckedItem[],
  defaultModel: string,
  dimension: number,
): Promise<void> {
  if (items.length === 0) return;
  await db
    .insertInto("trend_vectors")
    .values(
      items.map((item) => ({
        trend_id: item.id,
        model: item.model ?? defaultModel,
        dimension,
        vector: encodeVector(item.vector),
        source: item.source,
        status: item.status,
        created_at: new Date(item.createdAtMs),
      })),
    )
    .onConflict((oc) =>
      oc.column("trend_id").doUpdateSet({
        model: (eb) => eb.ref("excluded.model"),
        dimension: (eb) => eb.ref("excluded.dimension"),
        vector: (eb) => eb.ref("excluded.vector"),
        source: (eb) => eb.ref("excluded.source"),
        status: (eb) => eb.ref("excluded.status"),
        created_at: (eb) => eb.ref("excluded.created_at"),
        // Moves the row past every reader's xmin, so each index picks the new vector up.
        xid: sql<string>`pg_current_xact_id()`,
        updated_at: sql<Date>`now()`,
      }),
    )
    .execute();
}

/** Deletes leave a tombstone (vector NULL) so indexes in other processes learn of them too. */
export async function tombstoneVectors(db: Executor, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable("trend_vectors")
    .set({ vector: null, xid: sql<string>`pg_current_xact_id()`, updated_at: new Date() })
    .where("trend_id", "in", ids)
    .where("vector", "is not", null)
    .execute();
}

export async function readVector(db: Executor, id: string): Promise<VectorRow | undefined> {
  const row = await db
    .selectFrom("trend_vectors")
    .select(["trend_id", "model", "dimension", "vector", "source", "status", "created_at"])
    .where("trend_id", "=", id)
    .where("vector", "is not", null)
    .executeTakeFirst();
  return row as VectorRow | undefined;
}

export async function countVectors(db: Executor): Promise<number> {
  const row = await db
    .selectFrom("trend_vectors")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("vector", "is not", null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A dimension other than `dimension` already stored (for the same model, when one is named). */
export async function otherDimension(
  db: Executor,
  dimension: number,
  model: string,
): Promise<number | undefined> {
  let query = db
    .selectFrom("trend_vectors")
    .select("dimension")
    .where("vector", "is not", null)
    .where("dimension", "<>", dimension);
  if (model) query = query.where("model", "=", model);
  return (await query.limit(1).executeTakeFirst())?.dimension;
}

/** The dimension of the newest stored vector (of `model`, when one is named). */
export async function latestDimension(db: Executor, model: string): Promise<number | undefined> {
  let query = db.selectFrom("trend_vectors").select("dimension").where("vector", "is not", null);
  if (model) query = query.where("model", "=", model);
  return (await query.orderBy("xid", "desc").limit(1).executeTakeFirst())?.dimension;
}

/**
 * The oldest transaction still running: every transaction with a smaller xid has finished, so a
 * read started after this call sees all of their rows. Taken before the read, never after.
 */
export async function currentXmin(db: Executor): Promise<string> {
  const { rows } = await sql<{
    xmin: string;
  }>`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`.execute(db);
  return rows[0]!.xmin;
}

const inScope = (scope: IndexScope) =>
  sql<boolean>`vector IS NOT NULL AND dimension = ${scope.dimension} AND (${scope.model} = '' OR model = ${scope.model})`;

/** Rows written by transactions from `sinceXmin` on (some read again: upserts are idempotent). */
export async function readChanges(
  db: Executor,
  sinceXmin: string,
  scope: IndexScope,
): Promise<ChangedRow[]> {
  const rows = await db
    .selectFrom("trend_vectors")
    .select(["trend_id", "source", "status", "created_at"])
    .select(sql<Buffer | null>`CASE WHEN ${inScope(scope)} THEN vector END`.as("vector"))
    .where(sql<boolean>`xid >= ${sinceXmin}::xid8`)
    .execute();
  return rows as ChangedRow[];
}

/** One page of every row in scope, in id order, for a rebuild (`after` = last id of the page before). */
export async function readPage(
  db: Executor,
  scope: IndexScope,
  after: string | undefined,
  limit: number,
): Promise<ChangedRow[]> {
  let query = db
    .selectFrom("trend_vectors")
    .select(["trend_id", "vector", "source", "status", "created_at"])
    .where(inScope(scope))
    .orderBy("trend_id")
    .limit(limit);
  if (after !== undefined) query = query.where("trend_id", ">", after);
  return (await query.execute()) as ChangedRow[];
}
