import { type Kysely, sql, type Transaction } from "kysely";
import { toValidJson } from "../domain/valid-text.js";
import type { TenantScope } from "../domain/tenant-scope.js";
import { visibleTrendIds } from "./tenant-filter.js";
import type { Database, ProvenanceRow } from "./types.js";

export interface ProvenanceInput {
  traceId: string;
  trendId: string | null;
  step: string;
  actor: string;
  input?: unknown;
  output?: unknown;
  /** The entry this one follows; by default the trend's latest entry, so each trend's log is a chain. */
  parentId?: string | null;
}

/**
 * Appends one entry to the append-only provenance log. Callers run it in the transaction of the
 * change it records, so the audit trail and the change commit together or not at all.
 */
export async function appendProvenance(
  db: Kysely<Database> | Transaction<Database>,
  entry: ProvenanceInput,
): Promise<ProvenanceRow> {
  // The parent is looked up inside the INSERT: one round trip per entry.
  const parentId =
    entry.parentId !== undefined || !entry.trendId
      ? (entry.parentId ?? null)
      : db
          .selectFrom("provenance_log")
          .select("id")
          .where("trend_id", "=", entry.trendId)
          .orderBy("id", "desc")
          .limit(1);
  return db
    .insertInto("provenance_log")
    .values({
      trace_id: entry.traceId,
      trend_id: entry.trendId,
      step: entry.step,
      actor: entry.actor,
      input: toValidJson(entry.input ?? {}),
      output: toValidJson(entry.output ?? {}),
      parent_id: parentId,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Appends several entries in one statement, in the order given. An entry without `parentId`
 * follows its trend's latest entry as it stood before this statement (so two entries of one
 * trend in one call must name their parent). Returns the new ids in order.
 */
export async function appendProvenanceMany(
  db: Kysely<Database> | Transaction<Database>,
  entries: readonly ProvenanceInput[],
): Promise<{ id: string; trend_id: string | null }[]> {
  if (entries.length === 0) return [];
  const { rows } = await sql<{ id: string; trend_id: string | null }>`
    INSERT INTO provenance_log (trace_id, trend_id, step, actor, input, output, parent_id)
    SELECT v.trace_id, v.trend_id, v.step, v.actor, v.input::jsonb, v.output::jsonb,
      CASE WHEN v.find_parent AND v.trend_id IS NOT NULL THEN
        (SELECT p.id FROM provenance_log p WHERE p.trend_id = v.trend_id ORDER BY p.id DESC LIMIT 1)
      ELSE v.parent_id END
    FROM unnest(
      ${entries.map((e) => e.traceId)}::text[],
      ${entries.map((e) => e.trendId)}::uuid[],
      ${entries.map((e) => e.step)}::text[],
      ${entries.map((e) => e.actor)}::text[],
      ${entries.map((e) => toValidJson(e.input ?? {}))}::text[],
      ${entries.map((e) => toValidJson(e.output ?? {}))}::text[],
      ${entries.map((e) => e.parentId ?? null)}::bigint[],
      ${entries.map((e) => e.parentId === undefined)}::boolean[]
    ) WITH ORDINALITY AS v(trace_id, trend_id, step, actor, input, output, parent_id, find_parent, ord)
    ORDER BY v.ord
    RETURNING id, trend_id`.execute(db);
  return rows.map((r) => ({ id: String(r.id), trend_id: r.trend_id }));
}

/** Entries of one trace and/or trend the scope may see, in the order they were written. */
export function provenanceEntries(
  db: Kysely<Database>,
  of: { traceId?: string | null; trendId?: string | null },
  scope: TenantScope,
): Promise<ProvenanceRow[]> {
  let query = db.selectFrom("provenance_log").selectAll();
  if (scope !== null) query = query.where(visibleTrendIds(scope, "provenance_log.trend_id"));
  if (of.trendId) query = query.where("trend_id", "=", of.trendId);
  if (of.traceId) query = query.where("trace_id", "=", of.traceId);
  return query.orderBy("id").execute();
}

/** Entries of several trends, in the order they were written. */
export function provenanceOfTrends(db: Kysely<Database>, trendIds: readonly string[]): Promise<ProvenanceRow[]> {
  if (trendIds.length === 0) return Promise.resolve([]);
  return db.selectFrom("provenance_log").selectAll().where("trend_id", "in", trendIds).orderBy("id").execute();
}
