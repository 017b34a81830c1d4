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

/** What one item of a judge batch writes when the policy sends it to READY. */
export type ReadyWrite = StageBatchWrite;

/**
 * The judge batch's READY writes as ONE statement (in a transaction; the caller rolls back when
 * `charged` is short, i.e. the judge step was charged already). Locks the trends in id order;
 * for each item still EMBEDDED with the budget it was read with and room for the charge: READY,
 * the spend, the charge, the provenance entry (after the trend's latest) and the events, in input
 * order. The status guard makes a redelivered read write nothing; items not written are left to
 * the per-item path (which pauses an over-budget item).
 */
export function commitReadyBatch(
  trx: Transaction<Database>,
  items: readonly ReadyWrite[],
): Promise<{ moved: Set<string>; charged: number }> {
  return commitJudgedBatch(trx, items, "READY");
}

/** commitReadyBatch's statement, moving the items to `status` (READY or REJECTED). */
export async function commitJudgedBatch(
  trx: Transaction<Database>,
  items: readonly StageBatchWrite[],
  status: "READY" | "REJECTED",
): Promise<{ moved: Set<string>; charged: number }> {
  if (items.length === 0) return { moved: new Set(), charged: 0 };
  const { rows } = await sql<{ moved: string[] | null; charged: number }>`
    WITH ${itemsCte(items)},
    ${lockedCte},
    ${guardedMoveCte("EMBEDDED", status)},
    ${chargedCte("judge")},
    ${provenanceAndEventsCtes("judge", items)}
    SELECT (SELECT array_agg(id::text) FROM upd) AS moved, (SELECT count(*)::int FROM charged) AS charged`.execute(
    trx,
  );
  return { moved: new Set(rows[0]?.moved ?? []), charged: rows[0]?.charged ?? 0 };
}
