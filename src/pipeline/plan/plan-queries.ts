import { randomUUID } from "node:crypto";
import { sql, type Transaction } from "kysely";
import type { Database, TrendRow } from "../../db/types.js";
import type { Plan } from "./plan.js";

/** Stores the plans of several trends in one statement; a trend already planned keeps its plan. */
export async function insertPlannerIntents(trx: Transaction<Database>, planned: readonly { trend: TrendRow; plan: Plan }[]): Promise<void> {
  if (planned.length === 0) return;
  await sql`
    INSERT INTO planner_intents (id, trend_id, trace_id, intent, steps, budget, planner)
    SELECT v.id, v.trend_id, v.trace_id, v.intent, v.steps::jsonb, v.budget, v.planner
    FROM unnest(
      ${planned.map(() => randomUUID())}::uuid[],
      ${planned.map((p) => p.trend.id)}::uuid[],
      ${planned.map((p) => p.trend.trace_id)}::text[],
      ${planned.map((p) => p.plan.intent)}::text[],
      ${planned.map((p) => JSON.stringify(p.plan.steps))}::text[],
      ${planned.map((p) => p.plan.budget)}::float8[],
      ${planned.map((p) => p.plan.planner)}::text[]
    ) AS v(id, trend_id, trace_id, intent, steps, budget, planner)
    ON CONFLICT (trend_id) DO NOTHING`.execute(trx);
}

/** The provenance entry of the plan step. */
export function planProvenance(trend: TrendRow, plan: Plan) {
  return {
    traceId: trend.trace_id,
    trendId: trend.id,
    step: "plan",
    actor: `planner:${plan.planner}`,
    input: { source: trend.source, title: trend.title },
    output: { intent: plan.intent, steps: plan.steps, budget: plan.budget },
  };
}
