import type { Transaction } from "kysely";

import { enqueueOutbox } from "../../db/outbox.js";
import type { Database, TrendRow, TrendStatus } from "../../db/types.js";
import {
  budgetGrant,
  estimateStepCost,
  PIPELINE_STEPS,
  type PipelineStep,
} from "../../domain/budget.js";
import { transitionTrend } from "../../services/trend-lifecycle.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { resumeStreamOf } from "../registry.js";
import type { Actor, Decision } from "./actor.js";

/** Approve: raise the budget enough for the rest of the plan and re-run the paused step. Reject: cancel. */
export async function resolveBudgetOverrun(
  trx: Transaction<Database>,
  trend: TrendRow,
  decision: Decision,
  actor: Actor,
): Promise<TrendStatus | null> {
  if (trend.status !== "PAUSED") return null;
  if (decision === "REJECT") {
    const moved = await transitionTrend(
      trx,
      trend.id,
      ["PAUSED"],
      "CANCELLED",
      {},
      { actor: actor.name, reason: "budget overrun rejected" },
    );
    return moved ? "CANCELLED" : null;
  }
  const step = (trend.paused_step ?? "etl") as PipelineStep;
  const text = `${trend.title ?? ""} ${trend.body}`;
  const remaining = PIPELINE_STEPS.slice(PIPELINE_STEPS.indexOf(step)).reduce(
    (sum, s) => sum + estimateStepCost(s, text),
    0,
  );
  const grant = budgetGrant({ limit: trend.budget_limit, spent: trend.budget_spent }, remaining);
  const resumeTo = trend.paused_from ?? "RECEIVED";
  const moved = await transitionTrend(
    trx,
    trend.id,
    ["PAUSED"],
    resumeTo,
    { budget_limit: trend.budget_limit + grant, paused_step: null, paused_from: null },
    { actor: actor.name, reason: `budget raised by ${grant}` },
  );
  if (!moved) return null;
  await enqueueOutbox(
    trx,
    resumeStreamOf(step),
    makeEnvelope("trend.resumed", {
      traceId: trend.trace_id,
      trendId: trend.id,
      payload: { trendId: trend.id, step, grant },
    }),
  );
  return resumeTo;
}
