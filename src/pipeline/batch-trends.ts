import type { Db } from "../db/database.js";
import type { TrendRow } from "../db/types.js";
import type { Job } from "../workers/runtime/stream-consumer.js";

const UUID = /^[0-9a-f-]{36}$/i;

/**
 * The first step of every batch stage: one job per trend, and those trends in one query. A job
 * without a valid trend id, a second job for a trend already in the read, or a job whose trend
 * does not exist goes to `alone`, for the per-item handler to decide (it knows how to fail or
 * ack each of those); `loaded` keeps the read's order.
 */
export async function loadBatchTrends(
  db: Db,
  jobs: readonly Job[],
): Promise<{ alone: Job[]; loaded: { id: string; job: Job; trend: TrendRow }[] }> {
  const { alone, byId } = jobsByTrend(jobs);
  if (byId.size === 0) return { alone, loaded: [] };
  const trends = await db
    .selectFrom("enriched_trends")
    .selectAll()
    .where("id", "in", [...byId.keys()])
    .execute();
  const found = new Map(trends.map((t) => [t.id, t]));
  const loaded: { id: string; job: Job; trend: TrendRow }[] = [];
  for (const [id, job] of byId) {
    const trend = found.get(id);
    if (trend) loaded.push({ id, job, trend });
    else alone.push(job);
  }
  return { alone, loaded };
}

/**
 * One job per trend, in the read's order; a job without a valid trend id, or a second job for a
 * trend already in the read, goes to `alone`. For batch stages that load their trends with more
 * than the row (the publisher joins its approval path).
 */
export function jobsByTrend(jobs: readonly Job[]): { alone: Job[]; byId: Map<string, Job> } {
  const alone: Job[] = [];
  const byId = new Map<string, Job>();
  for (const job of jobs) {
    const id = job.envelope.trendId ?? job.envelope.payload.trendId;
    if (typeof id !== "string" || !UUID.test(id) || byId.has(id)) alone.push(job);
    else byId.set(id, job);
  }
  return { alone, byId };
}
