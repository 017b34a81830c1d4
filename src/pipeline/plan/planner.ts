import { randomUUID } from "node:crypto";

import type { Transaction } from "kysely";

import { appendProvenance } from "../../db/provenance.js";
import type { Database, TrendRow } from "../../db/types.js";
import { estimateStepCost } from "../../domain/budget.js";
import type { Logger } from "../../observability/logger.js";
import { withChildSpan } from "../../observability/tracing.js";
import { chargeOrPause } from "../budget-service.js";
import { transitionTrend } from "../trend-lifecycle.js";
import { type Plan, planItem } from "./plan.js";
import { planProvenance } from "./plan-queries.js";

/**
 * The Planner step: every item gets an intent, steps and a budget before work starts, stored
 * and written to provenance under the item's trace. Runs in the caller's transaction; returns
 * undefined when the item was planned already (redelivery) or had to pause.
 */
export function planTrend(
  trx: Transaction<Database>,
  trend: TrendRow,
  logger: Logger,
): Promise<Plan | undefined> {
  return withChildSpan("plan", { "trendgate.trend_id": trend.id }, () => plan(trx, trend, logger));
}

async function plan(
  trx: Transaction<Database>,
  trend: TrendRow,
  logger: Logger,
): Promise<Plan | undefined> {
  const plan = planItem(trend, trend.budget_limit);
  const charged = await chargeOrPause(
    trx,
    trend,
    "plan",
    estimateStepCost("plan", `${trend.title ?? ""} ${trend.body}`),
    logger,
  );
  if (charged === "paused") return undefined;
  const moved = await transitionTrend(
    trx,
    trend.id,
    ["RECEIVED"],
    "PLANNED",
    {},
    { actor: "planner", reason: "planned" },
  );
  if (!moved) return undefined;
  await trx
    .insertInto("planner_intents")
    .values({
      id: randomUUID(),
      trend_id: trend.id,
      trace_id: trend.trace_id,
      intent: plan.intent,
      steps: JSON.stringify(plan.steps),
      budget: plan.budget,
      planner: plan.planner,
    })
    .onConflict((oc) => oc.column("trend_id").doNothing())
    .execute();
  await appendProvenance(trx, planProvenance(trend, plan));
  logger.info(
    { trace_id: trend.trace_id, enriched_trend_id: trend.id, planner_intent: plan.intent },
    "item planned",
  );
  return plan;
}
