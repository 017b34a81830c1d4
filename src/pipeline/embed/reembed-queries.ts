import type { Transaction } from "kysely";
import { sql } from "kysely";

import type { Db } from "../../db/database.js";
import type { Database } from "../../db/types.js";

/**
 * Queries on embedding_records that the re-embedding job and its progress metric need: which
 * records hold another model's vector, and moving one record to the new model exactly once.
 */

export interface StaleRecord {
  recordId: string;
  trendId: string;
  model: string;
  title: string | null;
  normalized_body: string | null;
  body: string;
  source: string;
  status: string;
  created_at: Date;
  trace_id: string;
}

/**
 * Up to `limit` records whose model is not `model`, oldest first, locked for this transaction;
 * records another process holds are skipped (SKIP LOCKED), so concurrent passes share the work.
 */
export function lockStaleRecords(
  trx: Transaction<Database>,
  model: string,
  limit: number,
): Promise<StaleRecord[]> {
  return trx
    .selectFrom("embedding_records as r")
    .innerJoin("enriched_trends as t", "t.id", "r.trend_id")
    .select([
      "r.id as recordId",
      "r.trend_id as trendId",
      "r.model",
      "t.title",
      "t.normalized_body",
      "t.body",
      "t.source",
      "t.status",
      "t.created_at",
      "t.trace_id",
    ])
    .where("r.model", "<>", model)
    .orderBy("r.created_at")
    .orderBy("r.id")
    .limit(limit)
    .forUpdate("r")
    .skipLocked()
    .execute();
}

/** Moves a record to `to` only while it still holds `from`'s vector; true when it moved. */
export async function moveRecordToModel(
  trx: Transaction<Database>,
  record: { recordId: string; model: string },
  to: { model: string; dimension: number; store: string },
): Promise<boolean> {
  const result = await trx
    .updateTable("embedding_records")
    .set({ model: to.model, dimension: to.dimension, store: to.store })
    .where("id", "=", record.recordId)
    .where("model", "=", record.model)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Records per model, for the re-embedding progress (reembed-progress.ts). */
export function countRecordsByModel(db: Db): Promise<{ model: string; n: number }[]> {
  return db
    .selectFrom("embedding_records")
    .select(["model", sql<number>`count(*)::int`.as("n")])
    .groupBy("model")
    .execute();
}
