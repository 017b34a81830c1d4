import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { IssueType } from "../../../src/db/types.js";
import { parseDeadlineLadders } from "../../../src/pipeline/review/deadline-ladder.js";
import { DeadlineSweeper } from "../../../src/pipeline/review/deadline-sweeper.js";
import { EscalationService } from "../../../src/pipeline/review/escalation-service.js";
import { openEscalation } from "../../../src/pipeline/review/open-escalation.js";
import { loadReasonCodes } from "../../../src/pipeline/review/reason-codes.js";
import { STREAMS } from "../../../src/streams/stream-names.js";
import { createTestEnv, type TestEnv } from "../../support/test-env.js";
import { reviewer } from "./review-seed.js";

/** Deadline ladders under an injected clock: no test sleeps. */
let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.close());

const ladders = parseDeadlineLadders(
  "TOXICITY:alert@15m,reassign:senior@30m,default:REJECT@2h;LOW_CONFIDENCE:default:KEEP_WAITING@1h",
);
const MIN = 60_000;

async function escalated(
  issueType: IssueType = "toxicity",
): Promise<{ trendId: string; escalationId: string; createdAt: Date }> {
  const trendId = randomUUID();
  await env.db
    .insertInto("enriched_trends")
    .values({
      id: trendId,
      trace_id: randomUUID().replace(/-/g, ""),
      source: "t",
      body: "b",
      metadata: "{}",
      status: "ESCALATED",
    })
    .execute();
  const trend = await env.db
    .selectFrom("enriched_trends")
    .select(["id", "trace_id"])
    .where("id", "=", trendId)
    .executeTakeFirstOrThrow();
  const escalationId = (await env.db
    .transaction()
    .execute((trx) =>
      openEscalation(trx, trend, { issueType, reason: "test", rule: "test", scores: {} }),
    ))!;
  const row = await env.db
    .selectFrom("escalations")
    .select("created_at")
    .where("id", "=", escalationId)
    .executeTakeFirstOrThrow();
  return { trendId, escalationId, createdAt: new Date(row.created_at) };
}

/** A sweeper process whose clock reads `created + offset`; a new one per "restart". */
function sweeperAt(created: Date, offsetMs: number): DeadlineSweeper {
  return new DeadlineSweeper({
    db: env.db,
    logger: env.logger,
    ladders,
    intervalMs: 1000,
    now: () => new Date(created.getTime() + offsetMs),
  });
}

const outboxOf = async (stream: string, trendId: string) =>
  (
    await env.db
      .selectFrom("outbox")
      .select("payload")
      .where("stream", "=", stream)
      .orderBy("id")
      .execute()
  )
    .map((r) => r.payload as { type: string; trendId?: string; payload: Record<string, unknown> })
    .filter((e) => e.trendId === trendId);

describe("deadline ladder", () => {
  it("should fire each rung once, in order, across restarts between rungs, and end with a default REJECT by system:deadline", async () => {
    const { trendId, escalationId, createdAt } = await escalated();
    const mine = (fired: { escalationId: string; action: string }[]) =>
      fired.filter((f) => f.escalationId === escalationId).map((f) => f.action);

    expect(mine(await sweeperAt(createdAt, 14 * MIN).sweep())).toEqual([]);
    expect(mine(await sweeperAt(createdAt, 16 * MIN).sweep())).toEqual(["alert"]);
    // A restarted worker (a new sweeper, same database) at the same time fires nothing again.
    expect(mine(await sweeperAt(createdAt, 16 * MIN).sweep())).toEqual([]);
    expect(mine(await sweeperAt(createdAt, 31 * MIN).sweep())).toEqual(["reassign"]);
    const escalation = await env.db
      .selectFrom("escalations")
      .selectAll()
      .where("id", "=", escalationId)
      .executeTakeFirstOrThrow();
    expect(escalation.required_skill).toBe("senior");
    expect(escalation.status).toBe("OPEN");
    expect(mine(await sweeperAt(createdAt, 121 * MIN).sweep())).toEqual(["default:REJECT"]);
    expect(mine(await sweeperAt(createdAt, 500 * MIN).sweep())).toEqual([]);

    const resolved = await env.db
      .selectFrom("escalations")
      .selectAll()
      .where("id", "=", escalationId)
      .executeTakeFirstOrThrow();
    expect(resolved).toMatchObject({
      status: "RESOLVED",
      decision: "REJECT",
      reason_code: "DEADLINE_DEFAULT",
      resolved_by: "system:deadline",
    });
    const trend = await env.db
      .selectFrom("enriched_trends")
      .select("status")
      .where("id", "=", trendId)
      .executeTakeFirstOrThrow();
    expect(trend.status).toBe("REJECTED");

    const rungs = await env.db
      .selectFrom("escalation_deadline_rungs")
      .selectAll()
      .where("escalation_id", "=", escalationId)
      .orderBy("fired_at")
      .execute();
    expect(rungs.map((r) => [r.rung, r.rule])).toEqual([
      [0, "alert@15m"],
      [1, "reassign:senior@30m"],
      [2, "default:REJECT@2h"],
    ]);
    const provenance = await env.db
      .selectFrom("provenance_log")
      .selectAll()
      .where("trend_id", "=", trendId)
      .orderBy("id")
      .execute();
    expect(provenance.map((p) => [p.step, p.actor])).toEqual([
      ["deadline", "system:deadline"],
      ["deadline", "system:deadline"],
      ["resolution", "system:deadline"],
    ]);
    expect(provenance[2]!.input).toMatchObject({
      decision: "REJECT",
      reasonCode: "DEADLINE_DEFAULT",
      deadlineRule: "default:REJECT@2h",
      rung: 2,
    });

    expect((await outboxOf(STREAMS.operatorAlerts, trendId)).map((e) => e.payload.rule)).toEqual([
      "alert@15m",
      "reassign:senior@30m",
    ]);
    expect((await outboxOf(STREAMS.resolutions, trendId)).map((e) => e.payload.decision)).toEqual([
      "REJECT",
    ]);
    const hooks = await outboxOf(STREAMS.webhooks, trendId);
    expect(hooks.map((e) => [e.type, e.payload.action ?? e.payload.decision])).toEqual([
      ["escalation.created", undefined],
      ["escalation.deadline", "alert"],
      ["escalation.deadline", "reassign:senior"],
      ["escalation.deadline", "default:REJECT"],
      ["escalation.resolved", "REJECT"],
    ]);
  });

  it("should fire every overdue rung in order in one pass after a long outage, once even with two sweepers at once", async () => {
    const { escalationId, createdAt } = await escalated();
    const [a, b] = await Promise.all([
      sweeperAt(createdAt, 5 * 3_600_000).sweep(),
      sweeperAt(createdAt, 5 * 3_600_000).sweep(),
    ]);
    const fired = [...a, ...b].filter((f) => f.escalationId === escalationId);
    expect(fired.map((f) => f.rung)).toEqual([0, 1, 2]);
    expect(
      await env.db
        .selectFrom("escalation_deadline_rungs")
        .select("rung")
        .where("escalation_id", "=", escalationId)
        .execute(),
    ).toHaveLength(3);
  });

  it("should leave an escalation open on KEEP_WAITING, saying so in provenance, and skip one a reviewer resolved", async () => {
    const waiting = await escalated("low_confidence");
    const fired = (await sweeperAt(waiting.createdAt, 61 * MIN).sweep()).filter(
      (f) => f.escalationId === waiting.escalationId,
    );
    expect(fired.map((f) => f.action)).toEqual(["default:KEEP_WAITING"]);
    const row = await env.db
      .selectFrom("escalations")
      .select(["status", "decision"])
      .where("id", "=", waiting.escalationId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: "OPEN", decision: null });
    const entry = await env.db
      .selectFrom("provenance_log")
      .selectAll()
      .where("trend_id", "=", waiting.trendId)
      .where("step", "=", "deadline")
      .executeTakeFirstOrThrow();
    expect(entry.output).toEqual({ action: "default:KEEP_WAITING" });

    const decided = await escalated();
    await env.db
      .updateTable("escalations")
      .set({
        status: "RESOLVED",
        decision: "APPROVE",
        resolved_by: "someone",
        resolved_at: new Date(),
      })
      .where("id", "=", decided.escalationId)
      .execute();
    expect(
      (await sweeperAt(decided.createdAt, 5 * 3_600_000).sweep()).filter(
        (f) => f.escalationId === decided.escalationId,
      ),
    ).toEqual([]);
  });

  it("should re-route after a reassign rung: routing gives it only to reviewers with the skill", async () => {
    const { escalationId, createdAt } = await escalated();
    const escalations = new EscalationService({
      db: env.db,
      logger: env.logger,
      claimLeaseMs: 60_000,
      reasonCodes: loadReasonCodes(undefined),
    });
    await sweeperAt(createdAt, 31 * MIN).sweep();
    const junior = reviewer("junior");
    // Other tests' escalations may be open too: this one must never go to the junior.
    for (
      let claimed = await escalations.claimNext(junior);
      claimed;
      claimed = await escalations.claimNext(junior)
    ) {
      expect(claimed.id).not.toBe(escalationId);
    }
    const refused = await escalations.claim(escalationId, junior).catch((e: unknown) => e);
    expect((refused as { code?: string }).code).toBe("FORBIDDEN");
    const senior = reviewer("senior-1", { skills: "senior", capacity: 50 });
    const ids: string[] = [];
    for (
      let claimed = await escalations.claimNext(senior);
      claimed;
      claimed = await escalations.claimNext(senior)
    )
      ids.push(claimed.id);
    expect(ids).toContain(escalationId);
  });
});
