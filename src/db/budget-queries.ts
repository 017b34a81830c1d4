import { sql, type Transaction } from "kysely";

import type { Database, TrendStatus } from "./types.js";

/** The budget ledger: one charge per (trend, step), summed into enriched_trends.budget_spent. */

type Trx = Transaction<Database>;

/**
 * Claims the (trend, step) charge; false when it is already taken (a redelivery; a concurrent
 * claim waits for the first to commit).
 */
export async function claimCharge(
  trx: Trx,
  trendId: string,
  step: string,
  cost: number,
): Promise<boolean> {
  const claimed = await trx
    .insertInto("budget_charges")
    .values({ trend_id: trendId, step, cost, unit: "compute_unit" })
    .onConflict((oc) => oc.columns(["trend_id", "step"]).doNothing())
    .returning("trend_id")
    .executeTakeFirst();
  return claimed !== undefined;
}

/** Adds `cost` to what the trend spent if it stays within its limit; false when it would not. */
export async function spendWithinLimit(trx: Trx, trendId: string, cost: number): Promise<boolean> {
  const spent = await trx
    .updateTable("enriched_trends")
    .set((eb) => ({ budget_spent: eb("budget_spent", "+", cost) }))
    .where("id", "=", trendId)
    .where(sql<boolean>`budget_spent + ${cost} <= budget_limit + 1e-9`)
    .returning("id")
    .executeTakeFirst();
  return spent !== undefined;
}

/** Takes back a claimed charge that was not spent. */
export async function releaseCharge(trx: Trx, trendId: string, step: string): Promise<void> {
  await trx
    .deleteFrom("budget_charges")
    .where("trend_id", "=", trendId)
    .where("step", "=", step)
    .execute();
}

/** The trend's budget and status, row locked until the transaction ends. */
export function lockBudget(
  trx: Trx,
  trendId: string,
): Promise<{ budget_limit: number; budget_spent: number; status: TrendStatus }> {
  return trx
    .selectFrom("enriched_trends")
    .select(["budget_limit", "budget_spent", "status"])
    .where("id", "=", trendId)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

/** Records the charge and spends it whatever the limit says (an operator override's overdraft). */
export async function chargeOverLimit(
  trx: Trx,
  trendId: string,
  step: string,
  cost: number,
): Promise<void> {
  await trx
    .insertInto("budget_charges")
    .values({ trend_id: trendId, step, cost, unit: "compute_unit" })
    .execute();
  await trx
    .updateTable("enriched_trends")
    .set((eb) => ({ budget_spent: eb("budget_spent", "+", cost) }))
    .where("id", "=", trendId)
    .execute();
}
