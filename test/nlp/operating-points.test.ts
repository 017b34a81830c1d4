import { describe, expect, it } from "vitest";

import { defaultRuleOutcome } from "../../src/nlp/train/operating-points.js";
import { judge, parsePolicy } from "../../src/pipeline/judge/judge-policy.js";

const OUTCOME = { REJECTED: "rejected", ESCALATED: "escalated", READY: "published" } as const;

describe("defaultRuleOutcome", () => {
  it("should decide as the Judge does at the default maxToxicity, so the trainer's grid is the Judge's", () => {
    const points = [0, 0.1, 0.39, 0.4, 0.49, 0.5, 0.51, 0.79, 0.8, 0.81, 0.95, 0.99, 0.991, 1];
    let compared = 0;
    for (const toxicityCeiling of [0.95, 0.991, 0.997])
      for (const minConfidence of [0.6, 0.8])
        for (const score of points)
          for (const confidence of points) {
            const policy = parsePolicy({
              thresholds: { minConfidence, maxToxicity: 0.8, toxicityCeiling },
            });
            const decision = judge(
              { source: "s", title: null, body: "text", toxicityScore: score, confidence },
              policy,
            );
            expect(
              defaultRuleOutcome(score, confidence, { toxicityCeiling, minConfidence }),
              `score ${score}, confidence ${confidence}, ceiling ${toxicityCeiling}, minConfidence ${minConfidence}`,
            ).toBe(OUTCOME[decision.outcome]);
            compared++;
          }
    expect(compared).toBe(3 * 2 * points.length * points.length);
  });
});
