import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { DomainError } from "../../../src/domain/domain-error.js";
import type { ReviewPolicy } from "../../../src/pipeline/judge/judge-policy.js";
import { EscalationService } from "../../../src/pipeline/review/escalation-service.js";
import { loadReasonCodes } from "../../../src/pipeline/review/reason-codes.js";
import { createTestEnv, type TestEnv } from "../../support/test-env.js";
import { reviewer, reviewPolicy, seedEscalation } from "./review-seed.js";

/** Routing (issue 14, item 2): who gets which escalation from claimNextEscalation, and who may claim one. */
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
beforeEach(async () => {
  review = reviewPolicy({});
  // Each test starts from an empty queue (reviews and claims first: they reference escalations).
  await env.db.deleteFrom("escalation_reviews").execute();
  await sql`DELETE FROM escalation_claims`.execute(env.db);
  await env.db.deleteFrom("escalations").execute();
});

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe("claimNextEscalation", () => {
  it("should give ten concurrent reviewers five distinct escalations and five nulls", async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, () => seedEscalation(env.db)));
    const reviewers = Array.from({ length: 10 }, (_, i) => reviewer(`r${i}`));
    const claimed = await Promise.all(reviewers.map((r) => escalations.claimNext(r)));
    const got = claimed.filter((row) => row !== null).map((row) => row.id);
    expect(got).toHaveLength(5);
    expect(new Set(got)).toEqual(new Set(ids));
    expect(claimed.filter((row) => row === null)).toHaveLength(5);
    // Each claimed row names the reviewer who got it, and no escalation is held twice.
    const rows = await env.db
      .selectFrom("escalations")
      .select(["id", "claimed_by_key", "status"])
      .execute();
    expect(rows.every((r) => r.status === "CLAIMED")).toBe(true);
    expect(new Set(rows.map((r) => r.claimed_by_key)).size).toBe(5);
  });

  it("should never give a `de` reviewer an English item, and refuse their claim and resolution with FORBIDDEN saying why", async () => {
    const english = await seedEscalation(env.db, { language: "en" });
    const german = await seedEscalation(env.db, { language: "de", ageMinutes: -1 });
    const de = reviewer("de-only", { languages: "de" });
    const first = await escalations.claimNext(de);
    expect(first?.id).toBe(german);
    expect(await escalations.claimNext(de)).toBeNull();
    const claim = await refusal(escalations.claim(english, de));
    expect(claim.code).toBe("FORBIDDEN");
    expect(claim.data).toMatchObject({ reason: "NOT_ELIGIBLE", rule: "language" });
    expect(claim.message).toContain('"en"');
    const resolve = await refusal(escalations.resolve(english, { decision: "APPROVE" }, de));
    expect(resolve.code).toBe("FORBIDDEN");
    // An English reviewer, and one who lists no language, both may take it.
    expect((await escalations.claimNext(reviewer("en", { languages: "en,fr" })))?.id).toBe(english);
  });

  it("should answer null at capacity, and FORBIDDEN from claimEscalation", async () => {
    await Promise.all(Array.from({ length: 3 }, () => seedEscalation(env.db)));
    const busy = reviewer("busy", { capacity: 2 });
    expect(await escalations.claimNext(busy)).not.toBeNull();
    expect(await escalations.claimNext(busy)).not.toBeNull();
    expect(await escalations.claimNext(busy)).toBeNull();
    const free = await env.db
      .selectFrom("escalations")
      .select("id")
      .where("status", "=", "OPEN")
      .executeTakeFirstOrThrow();
    const error = await refusal(escalations.claim(free.id, busy));
    expect(error.code).toBe("FORBIDDEN");
    expect(error.data).toMatchObject({ rule: "underCapacity" });
    // Giving one back makes room again.
    const mine = await env.db
      .selectFrom("escalations")
      .select("id")
      .where("claimed_by_key", "=", busy.keyId!)
      .executeTakeFirstOrThrow();
    await escalations.release(mine.id, busy);
    expect((await escalations.claimNext(busy))?.status).toBe("CLAIMED");
  });

  it("should keep capacity under concurrent calls of one reviewer", async () => {
    await Promise.all(Array.from({ length: 6 }, () => seedEscalation(env.db)));
    const eager = reviewer("eager", { capacity: 2 });
    const claimed = await Promise.all(
      Array.from({ length: 6 }, () => escalations.claimNext(eager)),
    );
    expect(claimed.filter(Boolean)).toHaveLength(2);
  });

  it("should route the policy's required skill only to reviewers who have it", async () => {
    review = reviewPolicy({ requiredSkill: { TOXICITY: "toxicity" } });
    const id = await seedEscalation(env.db, { issueType: "toxicity" });
    const novice = reviewer("novice");
    expect(await escalations.claimNext(novice)).toBeNull();
    const error = await refusal(escalations.claim(id, novice));
    expect(error.data).toMatchObject({ rule: "skill" });
    expect(error.message).toContain('"toxicity"');
    expect((await escalations.claimNext(reviewer("expert", { skills: "toxicity" })))?.id).toBe(id);
  });

  it("should take the most urgent first: severity × age", async () => {
    // low_confidence (severity 1) waiting 20 min → 21; toxicity (3) waiting 5 min → 18;
    // toxicity waiting 10 min → 33; audit sample (0.5) waiting 30 min → 15.5.
    const unsure = await seedEscalation(env.db, { issueType: "low_confidence", ageMinutes: 20 });
    const toxicNew = await seedEscalation(env.db, { issueType: "toxicity", ageMinutes: 5 });
    const toxicOld = await seedEscalation(env.db, { issueType: "toxicity", ageMinutes: 10 });
    const audit = await seedEscalation(env.db, { issueType: "audit_sample", ageMinutes: 30 });
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await escalations.claimNext(reviewer(`u${i}`)))!.id);
    expect(order).toEqual([toxicOld, unsure, toxicNew, audit]);
  });

  it("should not offer an escalation to a reviewer who reviewed it or is excluded from it", async () => {
    review = reviewPolicy({ requiredReviews: { toxicity: 2 } });
    const id = await seedEscalation(env.db);
    const first = reviewer("first");
    await escalations.claimNext(first);
    const reviewed = await escalations.resolve(id, { decision: "APPROVE" }, first);
    expect(reviewed.status).toBe("IN_REVIEW");
    expect(await escalations.claimNext(first)).toBeNull();
    const excluded = reviewer("excluded");
    await env.db
      .updateTable("escalations")
      .set({ excluded_reviewers: [excluded.keyId!] })
      .where("id", "=", id)
      .execute();
    expect(await escalations.claimNext(excluded)).toBeNull();
    expect((await refusal(escalations.claim(id, excluded))).data).toMatchObject({
      rule: "notExcluded",
    });
    const second = await escalations.claimNext(reviewer("second"));
    expect(second?.id).toBe(id);
  });
});
