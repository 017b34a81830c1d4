import type { Db } from "../db/database.js";
import type { TrendRow } from "../db/types.js";
import type { Logger } from "../observability/logger.js";
import type { Job } from "./runtime/stream-consumer.js";
import { PermanentError } from "./runtime/stream-consumer.js";

/**
 * The trend a job is about. A job naming no trend, or one that does not exist, can never
 * succeed: it goes to the dead letters at once instead of retrying.
 */
export async function loadJobTrend(db: Db, job: Job): Promise<TrendRow> {
  const trendId = job.envelope.trendId ?? job.envelope.payload.trendId;
  if (typeof trendId !== "string" || !/^[0-9a-f-]{36}$/i.test(trendId)) {
    throw new PermanentError(`job ${job.entryId} names no valid trend id`);
  }
  const trend = await db
    .selectFrom("enriched_trends")
    .selectAll()
    .where("id", "=", trendId)
    .executeTakeFirst();
  if (!trend) throw new PermanentError(`unknown trend id ${trendId}`);
  return trend;
}

/**
 * The log context every pipeline line carries (DESIGN.md "Tracing"): the trace, the trend and
 * the Planner's intent for it.
 */
export async function jobLogger(
  db: Db,
  logger: Logger,
  trend: TrendRow,
  extra: Record<string, unknown> = {},
): Promise<Logger> {
  const plan = await db
    .selectFrom("planner_intents")
    .select("intent")
    .where("trend_id", "=", trend.id)
    .executeTakeFirst();
  return logger.child({
    trace_id: trend.trace_id,
    enriched_trend_id: trend.id,
    planner_intent: plan?.intent,
    ...extra,
  });
}
