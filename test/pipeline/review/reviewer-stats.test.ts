import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerReviewerMetrics } from "../../../src/observability/reviewer-metrics.js";
import { reviewerStats } from "../../../src/pipeline/review/reviewer-stats-queries.js";
import { createTestEnv, type TestEnv } from "../../support/test-env.js";

/**
 * reviewerStats (issue 14, item 7) from reviews, claims and outcomes written as the review path
 * writes them: counts, median claim → review time, agreement with the final decision, decisions
 * an appeal reversed, audit-sample agreement; limited by time, reviewer and tenant.
 */
let env: TestEnv;
const NOW = Date.parse("2026-11-20T12:00:00Z");
const at = (secondsBefore: number) => new Date(NOW - secondsBefore * 1000);

beforeAll(async () => {
  env = await createTestEnv();
}, 60_000);
afterAll(async () => env?.close());

type Outcome = { status: "RESOLVED"; decision: "APPROVE" | "REJECT" } | { status: "IN_REVIEW" };

async function escalation(
  issueType: string,
  outcome: Outcome,
  options: { tenant?: string; appealOf?: string } = {},
): Promise<string> {
  const trendId = randomUUID();
  await env.db
    .insertInto("enriched_trends")
    .values({
      id: trendId,
      trace_id: randomUUID(),
      source: "wire",
      body: "b",
      metadata: "{}",
      status: "ESCALATED",
      tenant: options.tenant ?? "acme",
    })
    .execute();
  const id = randomUUID();
  const decision = outcome.status === "RESOLVED" ? outcome.decision : null;
  await sql`
    INSERT INTO escalations (id, trend_id, issue_type, reason, scores, status, decision, resolved_at, appeal_of)
    VALUES (${id}, ${trendId}, ${issueType}, 'test', '{}', ${outcome.status}, ${decision}, ${decision ? at(0) : null}, ${options.appealOf ?? null})`.execute(
    env.db,
  );
  return id;
}

/** A review by `who`, `handledIn` seconds after their claim (no claim when null), `ago` seconds before NOW. */
async function review(
  escalationId: string,
  who: string,
  decision: "APPROVE" | "REJECT",
  handledIn: number | null,
  ago = 100,
): Promise<void> {
  if (handledIn !== null) {
    await sql`INSERT INTO escalation_claims (escalation_id, reviewer_key_id, reviewer_name, claimed_at) VALUES (${escalationId}, ${`key-${who}`}, ${who}, ${at(ago + handledIn)})`.execute(
      env.db,
    );
  }
  await sql`
    INSERT INTO escalation_reviews (escalation_id, reviewer_key_id, reviewer_name, decision, at)
    VALUES (${escalationId}, ${`key-${who}`}, ${who}, ${decision}, ${at(ago)})`.execute(env.db);
}

describe("reviewerStats", () => {
  beforeAll(async () => {
    const e1 = await escalation("toxicity", { status: "RESOLVED", decision: "REJECT" });
    await review(e1, "alice", "REJECT", 60);
    await review(e1, "bob", "REJECT", 120);
    const e2 = await escalation("low_confidence", { status: "RESOLVED", decision: "APPROVE" });
    await review(e2, "alice", "APPROVE", 30);
    await review(e2, "carol", "REJECT", 10);
    const e3 = await escalation("audit_sample", { status: "RESOLVED", decision: "APPROVE" });
    await review(e3, "alice", "APPROVE", 90);
    const e4 = await escalation("toxicity", { status: "IN_REVIEW" });
    await review(e4, "alice", "REJECT", null); // resolved without a claim: no handling time
    // The integrator appealed e1's REJECT; carol (not a decider) approved it: alice and bob were overturned.
    const appeal = await escalation(
      "appeal",
      { status: "RESOLVED", decision: "APPROVE" },
      { appealOf: e1 },
    );
    await review(appeal, "carol", "APPROVE", 20);
    // Long ago, and another tenant's item.
    const old = await escalation("toxicity", { status: "RESOLVED", decision: "APPROVE" });
    await review(old, "bob", "REJECT", 5, 10 * 86_400);
    const globex = await escalation(
      "toxicity",
      { status: "RESOLVED", decision: "REJECT" },
      { tenant: "globex" },
    );
    await review(globex, "alice", "APPROVE", 40);
  });

  it("should give each reviewer's reviews, median handling time, agreement, overturns and audit-sample agreement", async () => {
    const rows = await reviewerStats(env.db, { since: at(86_400), scope: ["acme"] });
    const by = Object.fromEntries(rows.map((r) => [r.reviewerName, r]));

    expect(by.alice).toEqual({
      reviewerId: "key-alice",
      reviewerName: "alice",
      reviews: 4,
      medianHandlingSeconds: 60,
      decided: 3,
      agreementRate: 1,
      overturnedOnAppeal: 1,
      auditSamples: 1,
      auditAgreementRate: 1,
    });
    expect(by.bob).toMatchObject({
      reviews: 1,
      medianHandlingSeconds: 120,
      decided: 1,
      agreementRate: 1,
      overturnedOnAppeal: 1,
      auditSamples: 0,
      auditAgreementRate: null,
    });
    expect(by.carol).toMatchObject({
      reviews: 2,
      medianHandlingSeconds: 15,
      decided: 2,
      agreementRate: 0.5,
      overturnedOnAppeal: 0,
    });
    expect(rows.map((r) => r.reviewerName)).toEqual(["alice", "carol", "bob"]);
  });

  it("should count every review, in every tenant and at any time, without limits", async () => {
    const by = Object.fromEntries((await reviewerStats(env.db)).map((r) => [r.reviewerName, r]));
    expect(by.alice?.reviews).toBe(5);
    expect(by.alice?.agreementRate).toBe(3 / 4);
    expect(by.bob?.reviews).toBe(2);
  });

  it("should give one reviewer only their own figures", async () => {
    const rows = await reviewerStats(env.db, { reviewerId: "key-carol" });
    expect(rows.map((r) => r.reviewerId)).toEqual(["key-carol"]);
  });

  it("should answer [] for a reviewer without reviews", async () => {
    expect(await reviewerStats(env.db, { reviewerId: "key-nobody" })).toEqual([]);
  });

  it("should export the same figures as Prometheus gauges, leaving out figures not defined yet", async () => {
    const registry = new Registry();
    registerReviewerMetrics(registry, env.db);
    const text = await registry.metrics();
    expect(text).toContain(
      'trendgate_reviewer_reviews{reviewer_id="key-alice",reviewer_name="alice"} 5',
    );
    expect(text).toContain(
      'trendgate_reviewer_agreement_ratio{reviewer_id="key-alice",reviewer_name="alice"} 0.75',
    );
    expect(text).toContain(
      'trendgate_reviewer_overturned_on_appeal{reviewer_id="key-bob",reviewer_name="bob"} 1',
    );
    // Bob reviewed no audit sample: no audit agreement for him rather than a misleading 0.
    expect(text).not.toMatch(/trendgate_reviewer_audit_agreement_ratio\{reviewer_id="key-bob"/);
  });
});
