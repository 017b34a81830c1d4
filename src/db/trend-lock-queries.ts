import type { Kysely, Transaction } from "kysely";

import type { Database, TrendStatus } from "./types.js";

/**
 * The trend's status and failure bookkeeping, row locked until the transaction ends, for code
 * that decides on the status before moving it (marking FAILED, reopening after a replay).
 */
export function lockTrendFailureState(
  trx: Transaction<Database>,
  trendId: string,
): Promise<
  { status: TrendStatus; failed_from: TrendStatus | null; failed_stage: string | null } | undefined
> {
  return trx
    .selectFrom("enriched_trends")
    .select(["status", "failed_from", "failed_stage"])
    .where("id", "=", trendId)
    .forUpdate()
    .executeTakeFirst();
}

export async function trendExists(db: Kysely<Database>, trendId: string): Promise<boolean> {
  const row = await db
    .selectFrom("enriched_trends")
    .select("id")
    .where("id", "=", trendId)
    .executeTakeFirst();
  return row !== undefined;
}
