import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { chargeOrPause } from "../../src/pipeline/budget-service.js";
import { seedTrend, trendStatus } from "../support/stage-fixtures.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

/** chargeOrPause when the cost does not fit: pause, or overdraw under an operator override. */
let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env?.close();
});

const overBudget = (status: "READY" | "ESCALATED") =>
  seedTrend(env.db, { status, budget_limit: 10, budget_spent: 9 });

const charge = (id: string, options: { overdraftIfUnpausable?: boolean } = {}) =>
  env.db.transaction().execute(async (trx) => {
    const trend = await trx
      .selectFrom("enriched_trends")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    return chargeOrPause(trx, trend, "publish", 3, env.logger, options);
  });

const provenanceSteps = async (id: string) =>
  (
    await env.db.selectFrom("provenance_log").select("step").where("trend_id", "=", id).execute()
  ).map((r) => r.step);
const alerts = async (id: string) =>
  (
    await env.db
      .selectFrom("outbox")
      .select("payload")
      .where("stream", "like", "%alerts%")
      .execute()
  )
    .map((r) => r.payload as { trendId?: string; payload?: { kind?: string; message?: string } })
    .filter((e) => e.trendId === id);
const budget = (id: string) =>
  env.db
    .selectFrom("enriched_trends")
    .select(["budget_spent"])
    .where("id", "=", id)
    .executeTakeFirstOrThrow();

describe("chargeOrPause over budget", () => {
  it("should pause a pausable item with a budget_overrun escalation and alert, charging nothing", async () => {
    const id = await overBudget("READY");
    expect(await charge(id)).toBe("paused");
    expect(await trendStatus(env.db, id)).toBe("PAUSED");
    expect((await budget(id)).budget_spent).toBe(9);
    expect(await provenanceSteps(id)).toEqual(["budget_overrun"]);
    const [alert] = await alerts(id);
    expect(alert?.payload?.kind).toBe("BUDGET_OVERRUN");
    expect(alert?.payload?.message).toContain("step publish needs 3 compute units; 9 of 10 spent");
  });

  it("should charge an overridden ESCALATED item over the limit, with provenance and an alert", async () => {
    const id = await overBudget("ESCALATED");
    expect(await charge(id, { overdraftIfUnpausable: true })).toBe("overdrawn");
    expect(await trendStatus(env.db, id)).toBe("ESCALATED");
    expect((await budget(id)).budget_spent).toBe(12);
    expect(await provenanceSteps(id)).toEqual(["budget_overdraft"]);
    const [alert] = await alerts(id);
    expect(alert?.payload?.kind).toBe("BUDGET_OVERDRAFT");
    expect(alert?.payload?.message).toContain(
      "step publish needs 3 compute units; 9 of 10 spent; charged over the limit because an operator override of a ESCALATED item cannot be paused",
    );
    // A redelivery finds the step charged and pays nothing more.
    expect(await charge(id, { overdraftIfUnpausable: true })).toBe("already_charged");
    expect((await budget(id)).budget_spent).toBe(12);
  });
});
