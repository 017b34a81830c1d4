import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ActiveJudgePolicy } from "../../../src/pipeline/judge/active-policy.js";
import { JudgePolicyService } from "../../../src/pipeline/judge/judge-policy-service.js";
import { PolicyProvider } from "../../../src/pipeline/judge/policy-provider.js";
import { seedJudged } from "../../support/seed-judged.js";
import { createTestEnv, type TestEnv } from "../../support/test-env.js";

/** judgeStats: the console Judge page's figures per time bucket and policy version. */
let env: TestEnv;
let service: JudgePolicyService;
beforeAll(async () => {
  env = await createTestEnv();
  const active = new ActiveJudgePolicy({
    db: env.db,
    configured: new PolicyProvider(undefined, { minConfidence: 0.6, maxToxicity: 0.8 }, env.logger),
    configSource: "test",
    logger: env.logger,
  });
  service = new JudgePolicyService({
    db: env.db,
    active,
    now: () => new Date("2026-03-01T12:00:00Z"),
  });
}, 60_000);
afterAll(async () => env?.close());

describe("judge stats", () => {
  it("should count each bucket and policy version: rates, audit disagreement and overturns", async () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 2, 1, 10, minute));
    const n = (k: number) => Array.from({ length: k });
    await seedJudged(env.db, [
      // 10:00–10:59, version 1: 6 published, 2 rejected, 2 escalated (one overturned), 2 audit samples.
      ...n(6).map(() => ({
        toxicity: 0.05,
        confidence: 0.9,
        outcome: "READY" as const,
        policyVersion: 1,
        at: at(5),
      })),
      ...n(2).map(() => ({
        toxicity: 0.99,
        confidence: 0.9,
        outcome: "REJECTED" as const,
        policyVersion: 1,
        at: at(10),
      })),
      {
        toxicity: 0.85,
        confidence: 0.9,
        outcome: "ESCALATED" as const,
        rule: "toxicity_threshold",
        policyVersion: 1,
        decision: "APPROVE" as const,
        at: at(20),
      },
      {
        toxicity: 0.2,
        confidence: 0.4,
        outcome: "ESCALATED" as const,
        rule: "confidence_threshold",
        policyVersion: 1,
        decision: "APPROVE" as const,
        at: at(21),
      },
      {
        toxicity: 0.05,
        confidence: 0.9,
        outcome: "ESCALATED" as const,
        auditSample: true,
        policyVersion: 1,
        decision: "REJECT" as const,
        at: at(30),
      },
      {
        toxicity: 0.05,
        confidence: 0.9,
        outcome: "ESCALATED" as const,
        auditSample: true,
        policyVersion: 1,
        at: at(31),
      },
      // Same hour, version 2: two published.
      ...n(2).map(() => ({
        toxicity: 0.05,
        confidence: 0.9,
        outcome: "READY" as const,
        policyVersion: 2,
        at: at(50),
      })),
    ]);
    const buckets = await service.stats(new Date("2026-03-01T00:00:00Z"), 60);
    expect(buckets).toHaveLength(2);
    const [v1, v2] = buckets;
    expect(v1).toMatchObject({
      start: new Date("2026-03-01T10:00:00Z"),
      policyVersion: 1,
      judged: 12,
      auditSamples: 2,
      auditResolved: 1,
      auditDisagreementRate: 1,
      resolved: 3,
      overturns: 2, // the toxic-leaning item approved, the audit sample rejected
    });
    expect(v1!.escalationRate).toBeCloseTo(4 / 12);
    expect(v1!.autoPublishRate).toBeCloseTo(6 / 12);
    expect(v1!.autoRejectRate).toBeCloseTo(2 / 12);
    expect(v1!.overturnRate).toBeCloseTo(2 / 3);
    expect(v2).toMatchObject({
      policyVersion: 2,
      judged: 2,
      autoPublishRate: 1,
      auditSamples: 0,
      auditDisagreementRate: null,
      overturnRate: null,
    });

    const quarter = await service.stats(new Date("2026-03-01T00:00:00Z"), 15);
    expect(
      quarter.map((b) => [b.start.toISOString().slice(11, 16), b.policyVersion, b.judged]),
    ).toEqual([
      ["10:00", 1, 8],
      ["10:15", 1, 2],
      ["10:30", 1, 2],
      ["10:45", 2, 2],
    ]);
  });

  it("should refuse a bucket size that is not a positive whole number of minutes", async () => {
    await expect(service.stats(null, 0)).rejects.toMatchObject({
      code: "BAD_USER_INPUT",
      data: { field: "bucketMinutes" },
    });
  });
});
