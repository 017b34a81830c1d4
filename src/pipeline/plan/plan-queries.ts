import type { TrendRow } from "../../db/types.js";
import type { Plan } from "./plan.js";

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
