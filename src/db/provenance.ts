import type { Kysely, Transaction } from "kysely";
import { toValidJson } from "../domain/valid-text.js";
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
