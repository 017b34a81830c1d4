import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type AppHarness, startHarness } from "../../support/app-harness.js";
import { seedJudged } from "../../support/seed-judged.js";

/**
 * The Judge policy's API: versions with who and why, the roles that may apply and read them,
 * refusals that leave the active version alone, simulation and calibration over a seeded history.
 */
let h: AppHarness;
beforeAll(async () => {
  h = await startHarness({ workers: [] });
}, 60_000);
afterAll(async () => h?.close());

const ACTIVE = `{ judgePolicy { version origin policy createdBy { keyId name } justification simulation createdAt } }`;
const APPLY = `mutation($p: JSON!, $j: String!) { applyJudgePolicy(policy: $p, justification: $j) { version origin policy createdBy { keyId name } justification simulation } }`;
const SIMULATE = `query($p: JSON!, $since: DateTime) { simulateJudgePolicy(policy: $p, since: $since) {
  items labelled activeVersion escalationsRemoved escalationsAdded changed durationMs
  recorded { published rejected escalated }
  active { published rejected escalated escalationRate moderatorRejectedPublished moderatorApprovedRejected }
  proposed { published rejected escalated escalationRate moderatorRejectedPublished moderatorApprovedRejected } } }`;
const CALIBRATE = `query($t: Float) { judgeCalibrationProposal(targetLeak: $t) { policy refusedReason decisions moderatorDecisions auditDecisions activeVersion
  active { examples escalatedRate toxicPublishedRate cleanRejectedRate } proposed { escalatedRate toxicPublishedRate cleanRejectedRate } simulation { items } } }`;

const thresholds = (minConfidence: number, maxToxicity: number, toxicityCeiling: number) => ({
  thresholds: { minConfidence, maxToxicity, toxicityCeiling },
});

type Version = {
  version: number;
  origin: string;
  policy: { thresholds: Record<string, number> };
  createdBy: { keyId: string | null; name: string };
  justification: string;
  simulation: unknown;
};

describe("judge policy versions", () => {
  it("should store the configured policy as version 1 on an empty table", async () => {
    const res = await h.gql<{ judgePolicy: Version }>(ACTIVE);
    expect(res.errors).toBeUndefined();
    expect(res.data?.judgePolicy).toMatchObject({
      version: 1,
      origin: "config",
      createdBy: { keyId: null },
    });
    expect(res.data?.judgePolicy.createdBy.name).toMatch(/^config:JUDGE_MIN_CONFIDENCE=0.6/);
  });

  it("should store an operator's policy as the next version with who, why and its simulation", async () => {
    const res = await h.gql<{ applyJudgePolicy: Version }>(APPLY, {
      p: thresholds(0.6, 0.8, 0.97),
      j: "  pin the seed's thresholds  ",
    });
    expect(res.errors).toBeUndefined();
    const applied = res.data!.applyJudgePolicy;
    expect(applied).toMatchObject({
      version: 2,
      origin: "operator",
      justification: "pin the seed's thresholds",
      createdBy: { name: "test-operator" },
    });
    expect(applied.createdBy.keyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(applied.simulation).toMatchObject({ items: 0, activeVersion: 1 });
    const active = await h.gql<{ judgePolicy: Version }>(ACTIVE, {}, h.keys.moderator);
    expect(active.data?.judgePolicy.version).toBe(2);
    // Thresholds and patterns are a policy oracle: moderators and operators only (issue 12).
    expect((await h.gql(ACTIVE, {}, h.keys.viewer)).errors?.[0]?.extensions?.code).toBe(
      "FORBIDDEN",
    );
    const history = await h.gql<{ judgePolicyHistory: { version: number }[] }>(
      `{ judgePolicyHistory(first: 5) { version } }`,
      {},
      h.keys.moderator,
    );
    expect(history.data?.judgePolicyHistory.map((v) => v.version)).toEqual([2, 1]);
  });

  it("should refuse an invalid policy with BAD_USER_INPUT naming the field and leave the active version unchanged", async () => {
    const before = (await h.gql<{ judgePolicy: Version }>(ACTIVE)).data!.judgePolicy.version;
    const bad = await h.gql(APPLY, { p: { thresholds: { minConfidence: 1.5 } }, j: "typo" });
    expect(bad.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "policy.thresholds.minConfidence",
    });
    const unknownKey = await h.gql(APPLY, { p: { threshold: {} }, j: "typo" });
    expect(unknownKey.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "policy.threshold",
    });
    const ceiling = await h.gql(APPLY, { p: thresholds(0.6, 0.9, 0.5), j: "inverted" });
    expect(ceiling.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "policy.thresholds.toxicityCeiling",
    });
    const empty = await h.gql(APPLY, { p: thresholds(0.6, 0.8, 0.97), j: "   " });
    expect(empty.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "justification",
    });
    expect((await h.gql<{ judgePolicy: Version }>(ACTIVE)).data!.judgePolicy.version).toBe(before);
  });

  it("should refuse applyJudgePolicy to moderators, integrators and viewers with FORBIDDEN", async () => {
    for (const role of ["moderator", "integrator", "viewer"] as const) {
      const res = await h.gql(
        APPLY,
        { p: thresholds(0.5, 0.8, 0.97), j: "not mine to change" },
        h.keys[role],
      );
      expect(res.errors?.[0]?.extensions?.code, role).toBe("FORBIDDEN");
    }
    expect((await h.gql(ACTIVE, {}, h.keys.integrator)).errors?.[0]?.extensions?.code).toBe(
      "FORBIDDEN",
    );
    expect((await h.gql(SIMULATE, { p: {} }, h.keys.viewer)).errors?.[0]?.extensions?.code).toBe(
      "FORBIDDEN",
    );
    expect((await h.gql(CALIBRATE, {}, h.keys.moderator)).errors?.[0]?.extensions?.code).toBe(
      "FORBIDDEN",
    );
    expect(
      (await h.gql(`{ judgeStats { judged } }`, {}, h.keys.moderator)).errors?.[0]?.extensions
        ?.code,
    ).toBe("FORBIDDEN");
    const viewerStats = await h.gql<{ judgeStats: unknown[] }>(
      `{ judgeStats(bucketMinutes: 15) { start policyVersion judged } }`,
      {},
      h.keys.viewer,
    );
    expect(viewerStats.errors).toBeUndefined();
    expect(viewerStats.data?.judgeStats).toEqual([]);
  });

  it("should give two operators applying at once two versions in order, neither lost", async () => {
    const before = (await h.gql<{ judgePolicy: Version }>(ACTIVE)).data!.judgePolicy.version;
    const [a, b] = await Promise.all([
      h.gql<{ applyJudgePolicy: Version }>(APPLY, {
        p: thresholds(0.55, 0.8, 0.97),
        j: "operator A",
      }),
      h.gql<{ applyJudgePolicy: Version }>(APPLY, {
        p: thresholds(0.65, 0.8, 0.97),
        j: "operator B",
      }),
    ]);
    const versions = [a.data!.applyJudgePolicy.version, b.data!.applyJudgePolicy.version].sort();
    expect(versions).toEqual([before + 1, before + 2]);
    const history = await h.gql<{ judgePolicyHistory: Version[] }>(
      `{ judgePolicyHistory(first: 2) { version justification } }`,
    );
    expect(history.data!.judgePolicyHistory.map((v) => v.justification).sort()).toEqual([
      "operator A",
      "operator B",
    ]);
    // Restore the seed's thresholds for the simulations below.
    await h.gql(APPLY, { p: thresholds(0.6, 0.8, 0.97), j: "back to the defaults" });
  });
});

describe("simulation and calibration on history", () => {
  it("should refuse to propose with fewer than 200 labelled decisions and say why", async () => {
    await seedJudged(h.app.services.db, [
      ...Array.from({ length: 40 }, () => ({
        toxicity: 0.1,
        confidence: 0.5,
        outcome: "ESCALATED" as const,
        decision: "APPROVE" as const,
      })),
      ...Array.from({ length: 10 }, () => ({
        toxicity: 0.1,
        confidence: 0.5,
        outcome: "ESCALATED" as const,
        decision: "REJECT" as const,
      })),
    ]);
    const res = await h.gql<{
      judgeCalibrationProposal: { policy: unknown; refusedReason: string; decisions: number };
    }>(CALIBRATE, { t: 0.01 });
    expect(res.errors).toBeUndefined();
    expect(res.data?.judgeCalibrationProposal).toMatchObject({ policy: null, decisions: 50 });
    expect(res.data?.judgeCalibrationProposal.refusedReason).toMatch(
      /only 50 labelled decisions; at least 200/,
    );
  });

  it("should replay 1,200 decided items with a proposed policy and count each outcome against the active one", async () => {
    const db = h.app.services.db;
    const since = new Date();
    const n = (k: number) => Array.from({ length: k });
    await seedJudged(db, [
      ...n(600).map(() => ({ toxicity: 0.05, confidence: 0.9, outcome: "READY" as const })),
      ...n(200).map(() => ({
        toxicity: 0.1,
        confidence: 0.5,
        outcome: "ESCALATED" as const,
        decision: "APPROVE" as const,
      })),
      ...n(100).map(() => ({
        toxicity: 0.1,
        confidence: 0.5,
        outcome: "ESCALATED" as const,
        decision: "REJECT" as const,
      })),
      ...n(150).map(() => ({
        toxicity: 0.85,
        confidence: 0.9,
        outcome: "ESCALATED" as const,
        decision: "REJECT" as const,
      })),
      ...n(50).map(() => ({
        toxicity: 0.85,
        confidence: 0.9,
        outcome: "ESCALATED" as const,
        decision: "APPROVE" as const,
      })),
      ...n(100).map(() => ({ toxicity: 0.98, confidence: 0.9, outcome: "REJECTED" as const })),
    ]);
    const policiesBefore = await db.selectFrom("judge_policies").select("version").execute();
    const res = await h.gql<{ simulateJudgePolicy: Record<string, unknown> }>(SIMULATE, {
      p: thresholds(0.4, 0.8, 0.84),
      since: since.toISOString(),
    });
    expect(res.errors).toBeUndefined();
    expect(res.data?.simulateJudgePolicy).toMatchObject({
      items: 1200,
      labelled: 500,
      recorded: { published: 600, rejected: 100, escalated: 500 },
      active: {
        published: 600,
        rejected: 100,
        escalated: 500,
        moderatorRejectedPublished: 0,
        moderatorApprovedRejected: 0,
      },
      proposed: {
        published: 900,
        rejected: 300,
        escalated: 0,
        escalationRate: 0,
        moderatorRejectedPublished: 100,
        moderatorApprovedRejected: 50,
      },
      escalationsRemoved: 500,
      escalationsAdded: 0,
      changed: 500,
    });
    expect(await db.selectFrom("judge_policies").select("version").execute()).toEqual(
      policiesBefore,
    );
  });

  it("should propose thresholds within the target leak once there are enough decisions", async () => {
    const db = h.app.services.db;
    const n = (k: number) => Array.from({ length: k });
    // Separable decisions: the clean ones sit at confidence 0.7, the toxic ones at toxicity 0.92.
    await seedJudged(db, [
      ...n(150).map(() => ({
        toxicity: 0.1,
        confidence: 0.7,
        outcome: "ESCALATED" as const,
        decision: "APPROVE" as const,
        issueType: "audit_sample" as const,
        auditSample: true,
      })),
      ...n(150).map(() => ({
        toxicity: 0.92,
        confidence: 0.9,
        outcome: "ESCALATED" as const,
        decision: "REJECT" as const,
      })),
    ]);
    const res = await h.gql<{
      judgeCalibrationProposal: {
        policy: { thresholds: Record<string, number> } | null;
        refusedReason: string | null;
        decisions: number;
        auditDecisions: number;
        active: Record<string, number>;
        proposed: Record<string, number>;
        simulation: { items: number };
      };
    }>(CALIBRATE, { t: 0.01 });
    expect(res.errors).toBeUndefined();
    const p = res.data!.judgeCalibrationProposal;
    expect(p.refusedReason).toBeNull();
    expect(p.decisions).toBeGreaterThanOrEqual(300);
    expect(p.auditDecisions).toBe(150);
    expect(p.proposed.toxicPublishedRate).toBeLessThanOrEqual(0.01);
    expect(p.proposed.cleanRejectedRate).toBeLessThanOrEqual(0.01);
    expect(p.proposed.escalatedRate).toBeLessThan(p.active.escalatedRate!);
    expect(p.simulation.items).toBeGreaterThan(1200);
    expect(p.policy!.thresholds.toxicityCeiling).toBeLessThanOrEqual(0.92);
  });
});
