import { describe, expect, it } from "vitest";

import { hashFeatures } from "../../src/nlp/features.js";
import { HarmClassifier } from "../../src/nlp/harm-classifier.js";
import { BinaryModelStack, LinearModel } from "../../src/nlp/linear-model.js";
import { TOXICITY_FEATURES, TOXICITY_MODEL_FILE } from "../../src/nlp/toxicity.js";
import { enrichCorpus } from "./golden/enrich-corpus.js";

// BinaryModelStack scores the toxicity classifier and the written-harm model in one pass; its
// logits and coverage must be each LinearModel's own, bit for bit, with either one model (the
// trainer's scorer has no harm model) or two (the shipped scorer).
const toxicity = LinearModel.load(
  new URL(`../../src/nlp/models/${TOXICITY_MODEL_FILE}`, import.meta.url),
);
const harm = HarmClassifier.load().model;
const vectors = [
  ...enrichCorpus().map((input) => `${input.title ?? ""} ${input.body}`),
  "you are an idiot",
  "",
].map((text) => hashFeatures(text, TOXICITY_FEATURES));

describe("BinaryModelStack", () => {
  for (const models of [[toxicity], [toxicity, harm]]) {
    it(`should give each model's logit and the first model's coverage bit for bit (${models.length} model(s))`, () => {
      const stack = new BinaryModelStack(models);
      const differing = vectors.filter((vector) => {
        const { logits, coverage } = stack.score(vector);
        return (
          !Object.is(coverage, models[0]!.coverage(vector)) ||
          models.some((model, m) => !Object.is(logits[m], model.logits(vector)[0]))
        );
      });
      expect(differing).toEqual([]);
      expect(stack.score(vectors.at(-2)!).logits[0]).not.toBe(0);
    });
  }

  it("should refuse a multi-class model or models of different feature dimensions", () => {
    const small = (labels: string[]) =>
      new LinearModel({
        name: "small",
        version: 1,
        kind: labels.length === 1 ? "binary" : "softmax",
        labels,
        features: { dimension: 16, wordNgrams: [1], charNgrams: [] },
        bias: labels.map(() => 0),
        weights: labels.map(() => [1, 0.5]),
        trainedOn: "test",
        metrics: {},
      });
    expect(() => new BinaryModelStack([small(["a"])])).not.toThrow();
    expect(() => new BinaryModelStack([small(["a", "b"])])).toThrow(
      /binary models of one feature dimension/,
    );
    expect(() => new BinaryModelStack([toxicity, small(["a"])])).toThrow(
      /binary models of one feature dimension/,
    );
  });
});
