import { describe, expect, it } from "vitest";

import { featureTokens } from "../../src/nlp/features.js";
import { containsSlur } from "../../src/nlp/slur-lexicon.js";
import { HARM_FLOOR, ToxicityScorer } from "../../src/nlp/toxicity.js";
import { defaultPolicy, judge } from "../../src/pipeline/judge/judge-policy.js";

const slur = (text: string) => containsSlur(featureTokens(text).join(" "));

describe("slurs obscenity's list lacks", () => {
  it.each([
    "Waiting on this wetback http://t.co/x",
    "Now beaners drive em.",
    "typical muzzie idiocy",
    "Vin Scully once called me a camel jockey.",
    "looks like any other little porch monkey to me!",
    "you SPICS are all the same",
    "a towel-head and a rag head walk in",
    "@someone you jigga boo",
  ])("matches: %s", (text) => {
    expect(slur(text)).toBe(true);
  });

  it.each([
    "The kitchen was spick and span after the party.",
    "Cleaned the floor with Spic and Span.",
    "This manual is gobbledy gook to me.",
    "Gobbledygook, all of it.",
    "The zipper head broke off my jacket.",
    "The Washington Redskins won on Sunday.",
    "He bowled a chinaman to the new batsman.",
    "Cheese and crackers for the picnic.",
    "It gets dark early in December.",
    "The spice market opens at nine.",
  ])("no match: %s", (text) => {
    expect(slur(text)).toBe(false);
  });

  it("lifts the toxicity to the harm floor, so the Judge escalates instead of publishing", () => {
    const scorer = ToxicityScorer.load();
    const text = "Waiting on this wetback http://t.co/x";
    const result = scorer.score(text);
    expect(result.slur).toBe(true);
    expect(result.score).toBeGreaterThanOrEqual(HARM_FLOOR);
    const decision = judge(
      { source: "t", title: null, body: text, toxicityScore: result.score, confidence: 0.95 },
      defaultPolicy(),
    );
    expect(decision.outcome).toBe("ESCALATED");
  });
});
