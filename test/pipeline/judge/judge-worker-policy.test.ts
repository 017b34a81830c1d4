import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ActiveJudgePolicy } from "../../../src/pipeline/judge/active-policy.js";
import { applyAuditSample, isAuditSampled } from "../../../src/pipeline/judge/audit-sample.js";
import { createJudgeHandler } from "../../../src/pipeline/judge/judge-worker.js";
import { PolicyProvider } from "../../../src/pipeline/judge/policy-provider.js";
import { appendPolicyVersion } from "../../../src/pipeline/judge/policy-queries.js";
import { EscalationService } from "../../../src/pipeline/review/escalation-service.js";
import { loadReasonCodes } from "../../../src/pipeline/review/reason-codes.js";
import { STREAMS } from "../../../src/streams/stream-names.js";
import { embeddedTrend as seedEmbeddedTrend, stageJob } from "../../support/stage-fixtures.js";
import { createTestEnv, type TestEnv } from "../../support/test-env.js";

/** The Judge worker and the policy versions: which version decides, audit samples, file changes. */
let env: TestEnv;
let dir: string;
beforeAll(async () => {
  env = await createTestEnv();
  dir = mkdtempSync(path.join(tmpdir(), "judge-policy-"));
}, 60_000);
afterAll(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

const DEFAULTS = { minConfidence: 0.6, maxToxicity: 0.8 };

const embeddedTrend = (scores = { toxicity: 0.05, confidence: 0.9 }) =>
  seedEmbeddedTrend(env.db, scores);

const job = (trendId: string) => stageJob(STREAMS.judgeJobs, "trend.embedded", trendId);

async function judgeEntry(trendId: string) {
  return env.db
    .selectFrom("provenance_log")
    .select(["actor", "output"])
    .where("trend_id", "=", trendId)
    .where("step", "=", "judge")
    .execute();
}

describe("the Judge and policy versions", () => {
  it("should name the version that decided in provenance, and follow a version another process applied within the refresh", async () => {
    let now = 0;
    const active = new ActiveJudgePolicy({
      db: env.db,
      configured: new PolicyProvider(undefined, DEFAULTS, env.logger),
      configSource: "test defaults",
      logger: env.logger,
      refreshMs: 1000,
      now: () => now,
    });
    const handler = createJudgeHandler({ db: env.db, policy: active, logger: env.logger });
    const first = await embeddedTrend();
    await handler(job(first), new AbortController().signal);
    const [entry] = await judgeEntry(first);
    expect(entry).toMatchObject({
      actor: "judge:policy-v1",
      output: { outcome: "READY", policyVersion: 1 },
    });

    // Another gateway applies a stricter policy: confidence 0.9 is no longer enough.
    await appendPolicyVersion(env.db, {
      policy: { thresholds: { minConfidence: 0.95, maxToxicity: 0.8, toxicityCeiling: 0.97 } },
      origin: "operator",
      createdBy: { keyId: null, name: "other-process" },
      justification: "stricter",
    });
    const second = await embeddedTrend();
    now = 500; // within the refresh window: still the cached version
    await handler(job(second), new AbortController().signal);
    expect((await judgeEntry(second))[0]).toMatchObject({
      actor: "judge:policy-v1",
      output: { outcome: "READY" },
    });
    const third = await embeddedTrend();
    now = 1500;
    await handler(job(third), new AbortController().signal);
    expect((await judgeEntry(third))[0]).toMatchObject({
      actor: "judge:policy-v2",
      output: { outcome: "ESCALATED", rule: "confidence_threshold", policyVersion: 2 },
    });
  });

  it("should store a changed policy file as a new version, and not again after a restart with the same file", async () => {
    const file = path.join(dir, "policy.json");
    writeFileSync(file, JSON.stringify({ blockedTerms: ["scam"] }));
    const make = () =>
      new ActiveJudgePolicy({
        db: env.db,
        configured: new PolicyProvider(file, DEFAULTS, env.logger),
        configSource: `POLICY_PATH=${file}`,
        logger: env.logger,
        refreshMs: 0,
      });
    const before = await env.db
      .selectFrom("judge_policies")
      .select("version")
      .orderBy("version", "desc")
      .executeTakeFirstOrThrow();
    const active = make();
    const stored = await active.current();
    expect(stored.version).toBe(before.version + 1);
    expect(stored.policy.blockedTerms).toEqual(["scam"]);
    expect((await make().current()).version).toBe(stored.version);

    writeFileSync(file, JSON.stringify({ blockedTerms: ["scam", "fraud"] }));
    const later = new Date(Date.now() + 5000);
    utimesSync(file, later, later);
    await new Promise((r) => setTimeout(r, 1100)); // the file provider looks at the file at most once a second
    const changed = await active.current();
    expect(changed.version).toBe(stored.version + 1);
    expect(changed.policy.blockedTerms).toEqual(["scam", "fraud"]);
    const row = await env.db
      .selectFrom("judge_policies")
      .selectAll()
      .where("version", "=", changed.version)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ origin: "config", created_by_name: `config:POLICY_PATH=${file}` });
  });
});

describe("audit sampling", () => {
  it("should draw the same items for the same trend ids, close to the rate", () => {
    const ids = Array.from(
      { length: 4000 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    );
    const sampled = ids.filter((id) => isAuditSampled(id, 0.1));
    expect(sampled.length / ids.length).toBeGreaterThan(0.08);
    expect(sampled.length / ids.length).toBeLessThan(0.12);
    expect(ids.filter((id) => isAuditSampled(id, 0.1))).toEqual(sampled);
    expect(ids.some((id) => isAuditSampled(id, 0))).toBe(false);
    expect(ids.every((id) => isAuditSampled(id, 1))).toBe(true);
  });

  it("should only hold back items the Judge would publish", () => {
    const escalated = {
      outcome: "ESCALATED" as const,
      issueType: "toxicity" as const,
      rule: "toxicity_threshold",
      reason: "r",
    };
    expect(applyAuditSample(escalated, randomUUID(), 1)).toEqual({
      decision: escalated,
      auditSampled: false,
    });
    const ready = { outcome: "READY" as const, rule: "within_thresholds", reason: "fine" };
    expect(applyAuditSample(ready, randomUUID(), 1).decision).toMatchObject({
      outcome: "ESCALATED",
      issueType: "audit_sample",
      rule: "audit_sample",
    });
  });

  it("should escalate a sampled item as AUDIT_SAMPLE once; APPROVE publishes it and REJECT does not", async () => {
    const active = new ActiveJudgePolicy({
      db: env.db,
      configured: new PolicyProvider(undefined, DEFAULTS, env.logger),
      configSource: "test",
      logger: env.logger,
    });
    const handler = createJudgeHandler({
      db: env.db,
      policy: active,
      logger: env.logger,
      auditSampleRate: 1,
    });
    const approved = await embeddedTrend();
    const rejected = await embeddedTrend();
    for (const id of [approved, rejected]) {
      await handler(job(id), new AbortController().signal);
      await handler(job(id), new AbortController().signal); // redelivery: nothing new
    }
    const escalations = await env.db
      .selectFrom("escalations")
      .selectAll()
      .where("trend_id", "in", [approved, rejected])
      .execute();
    expect(escalations.map((e) => e.issue_type)).toEqual(["audit_sample", "audit_sample"]);
    const [entry, ...more] = await judgeEntry(approved);
    expect(more).toEqual([]);
    expect(entry?.output).toMatchObject({
      outcome: "ESCALATED",
      rule: "audit_sample",
      auditSample: true,
      judgeOutcome: "READY",
      judgeRule: "within_thresholds",
    });

    const service = new EscalationService({
      db: env.db,
      logger: env.logger,
      claimLeaseMs: 60_000,
      reasonCodes: loadReasonCodes(undefined),
    });
    const moderator = { name: "mod", role: "moderator" };
    const byTrend = new Map(escalations.map((e) => [e.trend_id, e.id]));
    await service.resolve(byTrend.get(approved)!, { decision: "APPROVE" }, moderator);
    await service.resolve(
      byTrend.get(rejected)!,
      { decision: "REJECT", reasonCode: "VIOLENCE" },
      moderator,
    );
    const statuses = await env.db
      .selectFrom("enriched_trends")
      .select(["id", "status"])
      .where("id", "in", [approved, rejected])
      .execute();
    expect(Object.fromEntries(statuses.map((s) => [s.id, s.status]))).toEqual({
      [approved]: "APPROVED",
      [rejected]: "REJECTED",
    });
    const publishJobs = await env.db
      .selectFrom("outbox")
      .select("payload")
      .where("stream", "=", STREAMS.publishJobs)
      .execute();
    const published = publishJobs.map((j) => (j.payload as { trendId?: string }).trendId);
    expect(published).toContain(approved);
    expect(published).not.toContain(rejected);
  });
});
