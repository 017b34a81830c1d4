import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { DomainError } from "../../../src/domain/domain-error.js";
import type { ReviewPolicy } from "../../../src/pipeline/judge/judge-policy.js";
import { consensus } from "../../../src/pipeline/review/consensus.js";
import { EscalationService } from "../../../src/pipeline/review/escalation-service.js";
import { EscalationSweeper } from "../../../src/pipeline/review/escalation-sweeper.js";
import { loadReasonCodes } from "../../../src/pipeline/review/reason-codes.js";
import { AuthService } from "../../../src/services/auth-service.js";
import { STREAMS } from "../../../src/streams/stream-names.js";
import { createTestEnv, type TestEnv } from "../../support/test-env.js";
import { reviewer, reviewPolicy, seedEscalation } from "./review-seed.js";

/** k-of-n consensus (issue 14, item 3) on the service, against real Postgres. */
let env: TestEnv;
let review: ReviewPolicy;
let escalations: EscalationService;

beforeAll(async () => {
  env = await createTestEnv();
  escalations = new EscalationService({
    db: env.db,
    logger: env.logger,
    claimLeaseMs: 60_000,
    reasonCodes: loadReasonCodes(undefined),
    reviewPolicy: async () => review,
  });
}, 60_000);
afterAll(async () => env?.close());
beforeEach(() => {
  review = reviewPolicy({ requiredReviews: { toxicity: 2 } });
});

/** hitl:resolution announcements of one escalation written so far (the outbox holds them). */
async function resolutionsOf(id: string): Promise<unknown[]> {
  const rows = await env.db
    .selectFrom("outbox")
    .select(sql<unknown>`payload`.as("payload"))
    .where("stream", "=", STREAMS.resolutions)
    .where(sql<boolean>`payload::jsonb -> 'payload' ->> 'escalationId' = ${id}`)
    .execute();
  return rows.map((r) => r.payload);
}

async function trendStatus(escalationId: string): Promise<string> {
  const row = await env.db
    .selectFrom("escalations as e")
    .innerJoin("enriched_trends as t", "t.id", "e.trend_id")
    .select("t.status")
    .where("e.id", "=", escalationId)
    .executeTakeFirstOrThrow();
  return row.status;
}

describe("k-of-n consensus", () => {
  it("should stay IN_REVIEW after one of two reviews, refuse the same reviewer with CONFLICT, and resolve on the second agreeing review", async () => {
    const id = await seedEscalation(env.db);
    const ada = reviewer("ada");
    const first = await escalations.resolve(
      id,
      { decision: "APPROVE", note: "fine", reasonCode: null },
      ada,
    );
    expect(first.status).toBe("IN_REVIEW");
    expect(first.claimed_by_key).toBeNull();
    expect(await trendStatus(id)).toBe("ESCALATED");
    expect(await resolutionsOf(id)).toHaveLength(0);

    const again = await escalations
      .resolve(id, { decision: "REJECT", reasonCode: "VIOLENCE" }, ada)
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(DomainError);
    expect((again as DomainError).code).toBe("CONFLICT");
    expect((again as DomainError).data).toMatchObject({ reason: "ALREADY_REVIEWED" });

    const final = await escalations.resolve(id, { decision: "APPROVE" }, reviewer("bob"));
    expect(final.status).toBe("RESOLVED");
    expect(final.decision).toBe("APPROVE");
    expect(await trendStatus(id)).toBe("APPROVED");
    const announced = await resolutionsOf(id);
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatchObject({ payload: { decision: "APPROVE", reviews: 2 } });
  });

  it("should keep the default of one review: the first decision resolves", async () => {
    review = reviewPolicy({});
    const id = await seedEscalation(env.db);
    const row = await escalations.resolve(
      id,
      { decision: "REJECT", reasonCode: "ILLEGAL_OR_HARMFUL_SPEECH" },
      reviewer("solo"),
    );
    expect(row.status).toBe("RESOLVED");
    expect(await trendStatus(id)).toBe("REJECTED");
    const reviews = await env.db
      .selectFrom("escalation_reviews")
      .selectAll()
      .where("escalation_id", "=", id)
      .execute();
    expect(reviews).toEqual([
      expect.objectContaining({
        decision: "REJECT",
        reason_code: "ILLEGAL_OR_HARMFUL_SPEECH",
        counted: true,
        reviewer_name: "solo",
      }),
    ]);
  });

  it("should not count the review of a key revoked before the outcome", async () => {
    const auth = new AuthService(env.db, "");
    const revokedKey = await auth.createKey("moderator", "soon-gone");
    const id = await seedEscalation(env.db);
    const gone = {
      name: revokedKey.name,
      role: "moderator",
      keyId: revokedKey.id,
      profile: revokedKey.profile,
    };
    expect((await escalations.resolve(id, { decision: "APPROVE" }, gone)).status).toBe("IN_REVIEW");
    expect(await auth.revokeKey(revokedKey.id)).toBe(true);

    const second = await escalations.resolve(id, { decision: "APPROVE" }, reviewer("carol"));
    expect(second.status).toBe("IN_REVIEW");
    expect(await trendStatus(id)).toBe("ESCALATED");
    const counted = await env.db
      .selectFrom("escalation_reviews")
      .select(["reviewer_key_id", "counted"])
      .where("escalation_id", "=", id)
      .execute();
    expect(counted.find((r) => r.reviewer_key_id === revokedKey.id)?.counted).toBe(false);

    const third = await escalations.resolve(id, { decision: "APPROVE" }, reviewer("dave"));
    expect(third.status).toBe("RESOLVED");
    expect(await resolutionsOf(id)).toHaveLength(1);
  });

  it("should route a disagreement to the decider skill, whose decision is final", async () => {
    review = reviewPolicy({ requiredReviews: { toxicity: 2 }, escalateDisagreementTo: "senior" });
    const id = await seedEscalation(env.db);
    await escalations.resolve(id, { decision: "APPROVE" }, reviewer("eve"));
    const split = await escalations.resolve(
      id,
      { decision: "REJECT", reasonCode: "VIOLENCE" },
      reviewer("frank"),
    );
    expect(split.status).toBe("IN_REVIEW");
    expect(split.decider_skill).toBe("senior");
    // A third ordinary reviewer may no longer take it, nor decide it.
    const junior = reviewer("junior");
    expect(await escalations.claimNext(junior)).toBeNull();
    const refused = await escalations
      .resolve(id, { decision: "APPROVE" }, junior)
      .catch((e: unknown) => e);
    expect((refused as DomainError).code).toBe("FORBIDDEN");
    const senior = reviewer("grace", { skills: "senior" });
    expect((await escalations.claimNext(senior))?.id).toBe(id);
    const final = await escalations.resolve(
      id,
      { decision: "REJECT", reasonCode: "VIOLENCE" },
      senior,
    );
    expect(final).toMatchObject({ status: "RESOLVED", decision: "REJECT", resolved_by: "grace" });
    expect(await resolutionsOf(id)).toHaveLength(1);
  });

  it("should return a lapsed claim to IN_REVIEW, not OPEN, once someone reviewed the escalation", async () => {
    const id = await seedEscalation(env.db);
    await escalations.resolve(id, { decision: "APPROVE" }, reviewer("i1"));
    const holder = reviewer("i2");
    expect((await escalations.claim(id, holder)).status).toBe("CLAIMED");
    await env.db
      .updateTable("escalations")
      .set({ claim_expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", id)
      .execute();
    const sweeper = new EscalationSweeper({
      db: env.db,
      logger: env.logger,
      slaMs: {},
      intervalMs: 60_000,
    });
    expect((await sweeper.sweep()).released).toBeGreaterThanOrEqual(1);
    expect((await escalations.get(id)).status).toBe("IN_REVIEW");
    // Released by its holder, it goes back to IN_REVIEW too.
    await escalations.claim(id, holder);
    expect((await escalations.release(id, holder)).status).toBe("IN_REVIEW");
  });

  it("should let exactly one of two racing final reviews resolve", async () => {
    const id = await seedEscalation(env.db);
    await escalations.resolve(id, { decision: "APPROVE" }, reviewer("h1"));
    const results = await Promise.allSettled([
      escalations.resolve(id, { decision: "APPROVE" }, reviewer("h2")),
      escalations.resolve(id, { decision: "APPROVE" }, reviewer("h3")),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((rejected.reason as DomainError).code).toBe("CONFLICT");
    expect(await resolutionsOf(id)).toHaveLength(1);
  });
});

describe("consensus rule", () => {
  const base = { required: 3, deciderSkill: null, escalateDisagreementTo: null };
  it("should wait without a decider until `required` reviews agree", () => {
    const reviews = [
      { decision: "APPROVE" as const },
      { decision: "REJECT" as const },
      { decision: "APPROVE" as const },
    ];
    expect(consensus({ ...base, reviews, latest: { decision: "APPROVE", skills: [] } })).toEqual({
      kind: "pending",
      deciderSkill: null,
    });
    const more = [...reviews, { decision: "APPROVE" as const }];
    expect(
      consensus({ ...base, reviews: more, latest: { decision: "APPROVE", skills: [] } }),
    ).toEqual({ kind: "final", decision: "APPROVE", by: "agreement" });
  });
});
