import type { Transaction } from "kysely";

import type { TenantScope } from "../domain/tenant-scope.js";
import type { Db } from "./database.js";
import { tenantCondition } from "./tenant-filter.js";
import type { Database, TrendRow, TrendStatus, TrendUpdate } from "./types.js";

export interface TrendFilter {
  status?: TrendStatus[] | null;
  source?: string | null;
  topic?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/** The trace an event about the trend joins (its ingest trace). */
export async function traceIdOf(trx: Transaction<Database>, trendId: string): Promise<string> {
  const row = await trx
    .selectFrom("enriched_trends")
    .select("trace_id")
    .where("id", "=", trendId)
    .executeTakeFirstOrThrow();
  return row.trace_id;
}

/** One trend the scope may see, or undefined. */
export function trendById(db: Db, id: string, scope: TenantScope): Promise<TrendRow | undefined> {
  return db
    .selectFrom("enriched_trends")
    .selectAll()
    .where("id", "=", id)
    .where(tenantCondition(scope, "enriched_trends.tenant"))
    .executeTakeFirst();
}

/** The trends with these ids, in no particular order (for DataLoaders; no tenant filter). */
export function trendsByIds(db: Db, ids: readonly string[]): Promise<TrendRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom("enriched_trends").selectAll().where("id", "in", ids).execute();
}

/** The trends with these ids that the scope may see, in no particular order. */
export function visibleTrendsByIds(
  db: Db,
  ids: readonly string[],
  scope: TenantScope,
): Promise<TrendRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom("enriched_trends")
    .selectAll()
    .where("id", "in", ids)
    .where(tenantCondition(scope, "enriched_trends.tenant"))
    .execute();
}

/**
 * Up to `first` trends matching the filter, newest first, after the keyset cursor (the last
 * item seen), and whether more follow. Stable under concurrent inserts.
 */
export async function listTrends(
  db: Db,
  filter: TrendFilter,
  first: number,
  after: { at: Date; id: string } | undefined,
  scope: TenantScope,
): Promise<{ rows: TrendRow[]; hasNextPage: boolean }> {
  let query = db
    .selectFrom("enriched_trends")
    .selectAll()
    .where(tenantCondition(scope, "enriched_trends.tenant"));
  if (filter.status?.length) query = query.where("status", "in", filter.status);
  if (filter.source) query = query.where("source", "=", filter.source);
  if (filter.topic) query = query.where("topics", "@>", [filter.topic]);
  if (filter.createdAfter) query = query.where("created_at", ">=", filter.createdAfter);
  if (filter.createdBefore) query = query.where("created_at", "<", filter.createdBefore);
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb("created_at", "<", after.at),
        eb.and([eb("created_at", "=", after.at), eb("id", "<", after.id)]),
      ]),
    );
  }
  const rows = await query
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(first + 1)
    .execute();
  return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
}

/**
 * Sets the trend's status to `to` (and `set`) if its status is one of `from`, in one statement
 * that locks the row, checks and updates it; returns the updated row and the old status, or
 * undefined when the status was not one of `from`.
 */
export async function updateStatusIfIn(
  trx: Transaction<Database>,
  trendId: string,
  from: readonly TrendStatus[],
  to: TrendStatus,
  set: Omit<TrendUpdate, "status" | "id">,
): Promise<{ trend: TrendRow; from: TrendStatus } | undefined> {
  const updated = await trx
    .with("old", (db) =>
      db
        .selectFrom("enriched_trends")
        .select(["id", "status"])
        .where("id", "=", trendId)
        .forUpdate(),
    )
    .updateTable("enriched_trends")
    .from("old")
    .set({ ...set, status: to, updated_at: new Date() })
    .whereRef("enriched_trends.id", "=", "old.id")
    .where("old.status", "in", from)
    .returningAll("enriched_trends")
    .returning("old.status as from_status")
    .executeTakeFirst();
  if (!updated) return undefined;
  const { from_status, ...trend } = updated;
  return { trend, from: from_status as TrendStatus };
}
