import { sql } from "kysely";

import { IN_FLIGHT_STATUSES, type InFlightStatus } from "../domain/trend-status.js";
import type { Db } from "./database.js";

export interface StrandedCandidate {
  id: string;
  trace_id: string;
  status: InFlightStatus;
}

/**
 * Items a worker should have moved on, untouched for longer than `olderThanMs` (database clock,
 * so gateways and workers with skewed clocks agree), oldest first. Served by the partial index
 * of migration 0005.
 */
export async function findStaleInFlight(
  db: Db,
  olderThanMs: number,
  limit: number,
): Promise<StrandedCandidate[]> {
  const rows = await db
    .selectFrom("enriched_trends")
    .select(["id", "trace_id", "status"])
    .where("status", "in", [...IN_FLIGHT_STATUSES])
    .where("updated_at", "<", sql<Date>`now() - ${`${olderThanMs} milliseconds`}::interval`)
    .orderBy("updated_at")
    .limit(limit)
    .execute();
  return rows as StrandedCandidate[];
}

/** Trend ids named by outbox rows for `stream` that the relay has not published yet. */
export async function unsentOutboxTrends(db: Db, stream: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom("outbox")
    .select(sql<string | null>`payload->>'trendId'`.as("trend_id"))
    .where("stream", "=", stream)
    .execute();
  return new Set(rows.map((r) => r.trend_id?.toLowerCase()).filter((id): id is string => !!id));
}
