import { describe, expect, it } from "vitest";

import { judge, parsePolicy } from "../../../src/pipeline/judge/judge-policy.js";
import {
  type LabelledExample,
  measurePolicy,
  proposeThresholds,
} from "../../../src/pipeline/judge/policy-calibration.js";

const active = parsePolicy({
  thresholds: { minConfidence: 0.6, maxToxicity: 0.8, toxicityCeiling: 0.97 },
  blockedTerms: ["scam"],
});
const example = (
  toxic: boolean,
  toxicityScore: number,
  confidence: number,
  body = "a post",
): LabelledExample => ({
  source: "s",
  title: null,
  body,
  toxicityScore,
  confidence,
  toxic,
  origin: "moderator",
});
const many = (k: number, make: () => LabelledExample) => Array.from({ length: k }, make);

describe("proposeThresholds", () => {
  it("should find the least escalation that keeps both leaks under the target", async () => {
    const examples = [
      ...many(120, () => example(false, 0.1, 0.7)),
      ...many(100, () => example(true, 0.93, 0.9)),
    ];
    const proposal = await proposeThresholds(examples, active, 0.01);
    expect(proposal.refusedReason).toBeNull();
    expect(proposal.proposed).toEqual({
      examples: 220,
      escalatedRate: 0,
      toxicPublishedRate: 0,
      cleanRejectedRate: 0,
    });
    expect(proposal.active.escalatedRate).toBeCloseTo(100 / 220);
    expect(proposal.policy?.blockedTerms).toEqual(["scam"]);
    expect(judge(examples[0]!, proposal.policy!).outcome).toBe("READY");
    expect(judge(examples[200]!, proposal.policy!).outcome).toBe("REJECTED");
  });

  it("should keep what the blocked lists reject rejected, whatever the thresholds", async () => {
    const examples = [
      ...many(150, () => example(false, 0.1, 0.9)),
      ...many(100, () => example(true, 0.1, 0.9, "a scam offer")),
    ];
    const proposal = await proposeThresholds(examples, active, 0.01);
    expect(proposal.proposed).toMatchObject({
      escalatedRate: 0,
      toxicPublishedRate: 0,
      cleanRejectedRate: 0,
    });
    expect(measurePolicy(examples, proposal.policy!)).toEqual(proposal.proposed);
  });

  it("should refuse, saying why, when no thresholds meet the target", async () => {
    // The only clean example is one the blocked list rejects: its clean-rejected share is 1 of 1
    // whatever the thresholds.
    const examples = [
      ...many(199, () => example(true, 0.5, 0.5)),
      example(false, 0.1, 0.9, "scam, but fine"),
    ];
    const proposal = await proposeThresholds(examples, active, 0.001);
    expect(proposal.policy).toBeNull();
    expect(proposal.refusedReason).toMatch(/no thresholds keep both/);
  });

  it("should refuse under 200 labelled decisions", async () => {
    const proposal = await proposeThresholds(
      many(199, () => example(false, 0.1, 0.9)),
      active,
      0.01,
    );
    expect(proposal).toMatchObject({ policy: null, proposed: null });
    expect(proposal.refusedReason).toMatch(/^only 199 labelled decisions; at least 200/);
  });
});
