import { describe, expect, it } from "vitest";

import { judge, parsePolicy, PolicyError } from "../../src/pipeline/judge/judge-policy.js";

const base = { source: "wire", title: null, toxicityScore: 0.1, confidence: 0.9 };

describe("policy blockedPatterns (RE2, linear time)", () => {
  it("should run a catastrophic-backtracking pattern over 50 k characters and still answer", () => {
    const policy = parsePolicy({ blockedPatterns: ["(a+)+$"] });
    // With a backtracking engine this input takes longer than the test timeout; RE2 is linear.
    expect(judge({ ...base, body: `${"a".repeat(50_000)}!` }, policy).outcome).toBe("READY");
    expect(judge({ ...base, body: "aaaa" }, policy)).toMatchObject({
      outcome: "REJECTED",
      rule: "blocked_pattern",
    });
  });

  it("should refuse a policy whose pattern needs backtracking (backreference, lookahead)", () => {
    expect(() => parsePolicy({ blockedPatterns: ["(a)\\1"] })).toThrow(PolicyError);
    expect(() => parsePolicy({ blockedPatterns: ["buy(?= now)"] })).toThrow(/linear time/);
  });

  it("should stay case-insensitive beyond ASCII (RE2's \\b is ASCII-only, so none here)", () => {
    const policy = parsePolicy({ blockedPatterns: ["café"] });
    expect(judge({ ...base, body: "Meet at the CAFÉ" }, policy).outcome).toBe("REJECTED");
  });
});
