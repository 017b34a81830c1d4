import { sql, type Transaction } from "kysely";

import type { Database } from "../../db/types.js";
import {
  chargedCte,
  guardedMoveCte,
  itemsCte,
  lockedCte,
  provenanceAndEventsCtes,
  type StageBatchWrite,
} from "../batch-write.js";

/** What one item of an embedding batch writes when it moves to EMBEDDED. */
export interface EmbeddedWrite extends StageBatchWrite {
  attempt: number;
}

/**
 * The embedding batch's database write as ONE statement (in a transaction; the caller rolls back
 * when `charged` is short, i.e. a step was charged already, and writes the vectors of `moved`
 * in the same transaction). Locks the trends in id order; for each item still ENRICHED with
 * the budget it was read with and room for the charge: EMBEDDED, embedding SUCCEEDED, the spend,
 * the charge, the EmbeddingRecord, the provenance entry (after the trend's latest) and the
 * events, in input order. Items not written are left to the per-item path.
 */
export async function commitEmbeddedBatch(
  trx: Transaction<Database>,
  items: readonly EmbeddedWrite[],
  store: { name: string; model: string; dimension: number },
): Promise<{ moved: Set<string>; charged: number }> {
  if (items.length === 0) return { moved: new Set(), charged: 0 };
  const { rows } = await sql<{ moved: string[] | null; charged: number }>`
    WITH ${itemsCte(items, [{ name: "attempt", type: "int", values: items.map((i) => i.attempt) }])},
    ${lockedCte},
    ${guardedMoveCte("ENRICHED", "EMBEDDED", sql`embedding_status = 'SUCCEEDED',`)},
    ${chargedCte("embed")},
    records AS (
      INSERT INTO embedding_records (id, trend_id, vector_id, store, model, dimension, attempts)
      SELECT gen_random_uuid(), v.id, v.id::text, ${store.name}::text, ${store.model}::text, ${store.dimension}::int, v.attempt
      FROM v WHERE v.id IN (SELECT id FROM upd) ORDER BY v.ord
      ON CONFLICT (trend_id) DO NOTHING
    ),
    ${provenanceAndEventsCtes("embed", items)}
    SELECT (SELECT array_agg(id::text) FROM upd) AS moved, (SELECT count(*)::int FROM charged) AS charged`.execute(
    trx,
  );
  return { moved: new Set(rows[0]?.moved ?? []), charged: rows[0]?.charged ?? 0 };
}
