import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { describe, expect, it } from "vitest";

import { createLogger } from "../../src/observability/logger.js";
import {
  defaultPolicy,
  judge,
  parsePolicy,
  PolicyError,
} from "../../src/pipeline/judge/judge-policy.js";
import { PolicyProvider } from "../../src/pipeline/judge/policy-provider.js";

const base = {
  source: "wire",
  title: null,
  body: "Markets rose today.",
  toxicityScore: 0.1,
  confidence: 0.9,
};

describe("judge policy", () => {
  const policy = parsePolicy({
    blockedTerms: ["forbidden phrase"],
    blockedPatterns: ["\\bbuy now\\b"],
    blockedSources: ["spamfarm"],
  });

  it("should mark a confident, clean item READY", () => {
    expect(judge(base, policy)).toMatchObject({ outcome: "READY", rule: "within_thresholds" });
  });

  it("should escalate below the confidence threshold and above the toxicity threshold", () => {
    expect(judge({ ...base, confidence: 0.59 }, policy)).toMatchObject({
      outcome: "ESCALATED",
      issueType: "low_confidence",
      rule: "confidence_threshold",
    });
    expect(judge({ ...base, confidence: 0.6 }, policy).outcome).toBe("READY");
    expect(judge({ ...base, toxicityScore: 0.81 }, policy)).toMatchObject({
      outcome: "ESCALATED",
      issueType: "toxicity",
      rule: "toxicity_threshold",
    });
    expect(judge({ ...base, toxicityScore: 0.8 }, policy)).toMatchObject({
      outcome: "ESCALATED",
      rule: "leans_toxic",
    });
  });

  it("should never publish automatically what the model thinks more likely toxic than not", () => {
    expect(judge({ ...base, toxicityScore: 0.5, confidence: 0.99 }, policy)).toMatchObject({
      outcome: "ESCALATED",
      issueType: "toxicity",
      rule: "leans_toxic",
    });
    expect(judge({ ...base, toxicityScore: 0.499, confidence: 0.99 }, policy)).toMatchObject({
      outcome: "READY",
      rule: "within_thresholds",
    });
    // low confidence is the more specific reason and is named first
    expect(judge({ ...base, toxicityScore: 0.6, confidence: 0.3 }, policy)).toMatchObject({
      rule: "confidence_threshold",
    });
  });

  it("should reject policy violations with the rule that fired", () => {
    expect(judge({ ...base, source: "spamfarm" }, policy)).toMatchObject({
      outcome: "REJECTED",
      rule: "blocked_source",
    });
    expect(judge({ ...base, body: "this has a Forbidden Phrase in it" }, policy)).toMatchObject({
      outcome: "REJECTED",
      rule: "blocked_term",
    });
    expect(judge({ ...base, body: "Buy now while stocks last" }, policy)).toMatchObject({
      outcome: "REJECTED",
      rule: "blocked_pattern",
    });
    expect(judge({ ...base, toxicityScore: 0.996 }, policy)).toMatchObject({
      outcome: "REJECTED",
      rule: "toxicity_ceiling",
    });
    expect(judge({ ...base, toxicityScore: 0.99 }, policy)).toMatchObject({
      outcome: "ESCALATED",
      rule: "toxicity_threshold",
    });
  });

  it("should match blocked terms as whole words only", () => {
    const p = parsePolicy({ blockedTerms: ["ass"] });
    expect(judge({ ...base, body: "a classic assessment" }, p).outcome).toBe("READY");
  });

  it("should refuse an invalid policy with a PolicyError naming the path", () => {
    expect(() => parsePolicy({ thresholds: { minConfidence: 2 } })).toThrow(PolicyError);
    expect(() => parsePolicy({ blockedPatterns: ["(unclosed"] })).toThrow(/blockedPatterns\.0/);
    expect(() => parsePolicy({ unknownKey: true })).toThrow(/unrecognized|Unrecognized/);
    expect(() => parsePolicy({ thresholds: { maxToxicity: 0.9, toxicityCeiling: 0.5 } })).toThrow(
      /toxicityCeiling/,
    );
  });

  it("should use the configured thresholds by default", () => {
    const p = defaultPolicy({ minConfidence: 0.7, maxToxicity: 0.5 });
    expect(judge({ ...base, confidence: 0.65 }, p).outcome).toBe("ESCALATED");
  });
});

describe("policy file", () => {
  const logger = createLogger("silent");

  it("should stop at start with a clear error when the file is invalid", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "policy-"));
    const file = path.join(dir, "policy.json");
    writeFileSync(file, JSON.stringify({ thresholds: { minConfidence: "high" } }));
    expect(
      () => new PolicyProvider(file, { minConfidence: 0.6, maxToxicity: 0.8 }, logger),
    ).toThrow(/thresholds\.minConfidence/);
    writeFileSync(file, "{ not json");
    expect(
      () => new PolicyProvider(file, { minConfidence: 0.6, maxToxicity: 0.8 }, logger),
    ).toThrow(PolicyError);
    rmSync(dir, { recursive: true });
  });

  it("should reload a changed file without a restart and keep the last good policy when the new one is invalid", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "policy-"));
    const file = path.join(dir, "policy.json");
    writeFileSync(file, JSON.stringify({ version: "1", blockedTerms: [] }));
    const provider = new PolicyProvider(file, { minConfidence: 0.6, maxToxicity: 0.8 }, logger);
    expect(provider.current().version).toBe("1");
    const later = new Date(Date.now() + 5000);
    writeFileSync(file, JSON.stringify({ version: "2", blockedTerms: ["scam"] }));
    utimesSync(file, later, later);
    await new Promise((r) => setTimeout(r, 1100));
    expect(provider.current().version).toBe("2");
    expect(judge({ ...base, body: "a scam" }, provider.current()).outcome).toBe("REJECTED");
    writeFileSync(file, "{ broken");
    const evenLater = new Date(Date.now() + 10_000);
    utimesSync(file, evenLater, evenLater);
    await new Promise((r) => setTimeout(r, 1100));
    expect(provider.current().version).toBe("2");
    rmSync(dir, { recursive: true });
  });
});
