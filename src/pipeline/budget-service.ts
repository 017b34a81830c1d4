import type { Transaction } from "kysely";

import {
  chargeOverLimit,
  claimCharge,
  lockBudget,
  releaseCharge,
  spendWithinLimit,
} from "../db/budget-queries.js";
import { enqueueOutbox } from "../db/outbox.js";
import { appendProvenance } from "../db/provenance.js";
import type { Database, TrendRow, TrendStatus } from "../db/types.js";
import type { PipelineStep } from "../domain/budget.js";
import { canTransition } from "../domain/trend-status.js";
import type { Logger } from "../observability/logger.js";
import { makeEnvelope } from "../streams/envelope.js";
import { STREAMS } from "../streams/stream-names.js";
import { openEscalation } from "./review/open-escalation.js";
import { transitionTrend } from "./trend-lifecycle.js";

export type ChargeOutcome = "charged" | "already_charged" | "paused" | "overdrawn";

/**
 * Charges a step's cost against the item's budget inside the step's own transaction, so the
 * charge commits with the work it pays for. A step is charged once (primary key trend + step):
 * a redelivered job finds its charge and pays nothing. When the cost does not fit, the item is
 * PAUSED at this step with a budget_overrun escalation and an operator alert, and the caller
 * must stop (its work is kept: earlier steps' results stay on the row).
 *
 * `overdraftIfUnpausable` is for the publisher acting on an operator override of an ESCALATED
 * or REJECTED item: those statuses cannot move to PAUSED, and pausing used to fail silently, so
 * the job was acknowledged and the overridden item never published nor escalated. An override
 * is already a human's decision to publish, so the step is charged over the limit instead, with
 * provenance, an operator alert and a warning.
 */
export async function chargeOrPause(
  trx: Transaction<Database>,
  trend: TrendRow,
  step: PipelineStep,
  cost: number,
  logger: Logger,
  options: { overdraftIfUnpausable?: boolean } = {},
): Promise<ChargeOutcome> {
  // The common case in two statements: claim the (trend, step) charge — a redelivery finds it
  // taken (a concurrent one waits for the first to commit) — then spend if the budget allows.
  if (!(await claimCharge(trx, trend.id, step, cost))) return "already_charged";
  if (await spendWithinLimit(trx, trend.id, cost)) return "charged";

  // Over budget: the step is not charged after all; pause (or overdraw) instead.
  await releaseCharge(trx, trend.id, step);
  const current = await lockBudget(trx, trend.id);
  const over = { trx, trend, status: current.status, step, cost, budget: current, logger };
  if (options.overdraftIfUnpausable && !canTransition(current.status, "PAUSED")) {
    await overdraw(over);
    return "overdrawn";
  }
  await pauseForBudget(over);
  return "paused";
}

/** A step whose cost does not fit the budget, as the item stands (locked) in the transaction. */
interface OverBudget {
  trx: Transaction<Database>;
  trend: TrendRow;
  status: TrendStatus;
  step: PipelineStep;
  cost: number;
  budget: { budget_limit: number; budget_spent: number };
  logger: Logger;
}

function shortfall({ step, cost, budget }: OverBudget): string {
  return `step ${step} needs ${cost} compute units; ${budget.budget_spent} of ${budget.budget_limit} spent`;
}

async function pauseForBudget(o: OverBudget): Promise<void> {
  const { trx, trend, status, step, cost, budget, logger } = o;
  const reason = shortfall(o);
  const moved = await transitionTrend(
    trx,
    trend.id,
    [status],
    "PAUSED",
    { paused_step: step, paused_from: status },
    { reason, actor: `worker:${step}` },
  );
  if (!moved) return;
  const escalationId = await openEscalation(trx, trend, {
    issueType: "budget_overrun",
    reason,
    rule: "budget_limit",
    scores: { limit: budget.budget_limit, spent: budget.budget_spent, cost, step },
  });
  await appendProvenance(trx, {
    traceId: trend.trace_id,
    trendId: trend.id,
    step: "budget_overrun",
    actor: `worker:${step}`,
    input: { step, cost, limit: budget.budget_limit, spent: budget.budget_spent },
    output: { status: "PAUSED", escalationId: escalationId ?? null },
  });
  await enqueueOutbox(
    trx,
    STREAMS.operatorAlerts,
    makeEnvelope("alert.budget_overrun", {
      traceId: trend.trace_id,
      trendId: trend.id,
      payload: {
        kind: "BUDGET_OVERRUN",
        severity: "warning",
        message: `trend ${trend.id} paused: ${reason}`,
        step,
        cost,
        escalationId: escalationId ?? null,
      },
    }),
  );
  logger.warn(
    { trace_id: trend.trace_id, enriched_trend_id: trend.id, step, cost, alert: "budget_overrun" },
    "budget exceeded: item paused for a human decision",
  );
}

async function overdraw(o: OverBudget): Promise<void> {
  const { trx, trend, status, step, cost, budget, logger } = o;
  const reason = `${shortfall(o)}; charged over the limit because an operator override of a ${status} item cannot be paused`;
  await chargeOverLimit(trx, trend.id, step, cost);
  await appendProvenance(trx, {
    traceId: trend.trace_id,
    trendId: trend.id,
    step: "budget_overdraft",
    actor: `worker:${step}`,
    input: { step, cost, limit: budget.budget_limit, spent: budget.budget_spent, status },
    output: { spent: budget.budget_spent + cost },
  });
  await enqueueOutbox(
    trx,
    STREAMS.operatorAlerts,
    makeEnvelope("alert.budget_overdraft", {
      traceId: trend.trace_id,
      trendId: trend.id,
      payload: {
        kind: "BUDGET_OVERDRAFT",
        severity: "warning",
        message: `trend ${trend.id}: ${reason}`,
        step,
        cost,
      },
    }),
  );
  logger.warn(
    {
      trace_id: trend.trace_id,
      enriched_trend_id: trend.id,
      step,
      cost,
      alert: "budget_overdraft",
    },
    "budget exceeded under an operator override: charged over the limit",
  );
}
