import { describe, expect, it } from "vitest";

import { hashFeatures } from "../../src/nlp/features.js";
import { HarmClassifier } from "../../src/nlp/harm-classifier.js";
import { normalizeText } from "../../src/nlp/normalize.js";
import { HARM_FLOOR, TOXICITY_FEATURES, ToxicityScorer } from "../../src/nlp/toxicity.js";

const harm = HarmClassifier.load();
const score = (text: string) =>
  harm.score(hashFeatures(normalizeText(text, 5000), TOXICITY_FEATURES));

describe("the written-harm model", () => {
  it("should hit harm written without a swear word or a slur", () => {
    for (const text of [
      "Those refugees are a plague of locusts eating this country alive.",
      "someone needs to teach that family a lesson they won't walk away from",
    ])
      expect(score(text).hit, text).toBe(true);
  });

  it("should not hit sport, news of violence or text it knows nothing about", () => {
    for (const text of [
      "We will beat them on Sunday, the coach promised.",
      "Police said the attacker threatened staff before he was arrested.",
      "qwerty zxcv",
      "Nothing happened at work today.",
    ]) {
      const { probability, hit } = score(text);
      expect(hit, `${text}: ${probability}`).toBe(false);
    }
  });

  it("should lift the toxicity of a hit to the floor, so a human decides", () => {
    const scorer = ToxicityScorer.load();
    const result = scorer.score(
      normalizeText("Those refugees are a plague of locusts eating this country alive.", 5000),
    );
    expect(result.writtenHarmHit).toBe(true);
    expect(result.score).toBeGreaterThanOrEqual(HARM_FLOOR);
    expect(scorer.name).toMatch(/^toxicity-stack-v4\+harm-lr-v2$/);
  });
});
