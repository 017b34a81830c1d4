import { describe, expect, it } from "vitest";

import { ConfidenceModel } from "../../src/nlp/confidence.js";
import { hashFeatures } from "../../src/nlp/features.js";
import { decodeHashedMlp, encodeHashedMlp, HashedMlp } from "../../src/nlp/hashed-mlp.js";
import { ToxicityScorer } from "../../src/nlp/toxicity.js";
import { trainHashedMlp } from "../../src/nlp/train/mlp-trainer.js";
import { oraclePoint } from "../../src/nlp/train/oracle-curve.js";

const FEATURES = { dimension: 1 << 10, wordNgrams: [1], charNgrams: [] };
const toxic = ["you are a stupid idiot", "shut up idiot", "stupid trash person", "idiot moron"];
const clean = ["have a lovely day", "the weather is nice", "lovely game today", "nice to meet you"];
const examples = [
  ...toxic.map((t) => ({ x: hashFeatures(t, FEATURES), y: 1, weight: 1 })),
  ...clean.map((t) => ({ x: hashFeatures(t, FEATURES), y: 0, weight: 1 })),
];
const options = { buckets: 1 << 8, hidden: 4, epochs: 30, learningRate: 0.1, l2: 0, seed: 3 };

describe("hashed MLP", () => {
  it("should learn to separate toxic from clean words, and repeat bit for bit with the same seed", () => {
    const a = trainHashedMlp(examples, options);
    const net = new HashedMlp(a);
    expect(net.logit(hashFeatures("what an idiot", FEATURES))).toBeGreaterThan(
      net.logit(hashFeatures("what a lovely day", FEATURES)),
    );
    expect(encodeHashedMlp(trainHashedMlp(examples, options)).equals(encodeHashedMlp(a))).toBe(
      true,
    );
  });

  it("should survive the int8 file round trip within the quantisation step, and refuse a truncated file", () => {
    const weights = trainHashedMlp(examples, options);
    const header = { buckets: options.buckets, hidden: options.hidden, file: "test.bin" };
    const bytes = encodeHashedMlp(weights);
    const decoded = new HashedMlp(decodeHashedMlp(bytes, header));
    for (const text of [...toxic, ...clean]) {
      const x = hashFeatures(text, FEATURES);
      expect(decoded.logit(x)).toBeCloseTo(new HashedMlp(weights).logit(x), 1);
    }
    expect(() => decodeHashedMlp(bytes.subarray(1), header)).toThrow(/expected/);
  });
});

describe("oracle curve", () => {
  it("should escalate only what lies between the leak-limited thresholds", () => {
    // 100 toxic at 0.6..0.99, 100 clean at 0.0..0.5, plus two clean outliers at 0.7 and 0.95
    const scores = [
      ...Array.from({ length: 100 }, (_, i) => 0.6 + i * 0.0039),
      ...Array.from({ length: 100 }, (_, i) => i * 0.005),
      0.7,
      0.95,
    ];
    const labels = [...new Array<number>(100).fill(1), ...new Array<number>(102).fill(0)];
    const o = oraclePoint(scores, labels, 0.01);
    // One toxic (the lowest) may publish; one clean (the 0.95 outlier) may be rejected, so the
    // reject threshold stops just above the 0.7 outlier: toxic items 0.6039..0.6975 (25) and
    // that clean one escalate.
    expect(o.publishBelow).toBeCloseTo(0.6039, 6);
    expect(o.rejectFrom).toBeCloseTo(0.7014, 6);
    expect(o.escalatedBalanced).toBeCloseTo(0.5 * (25 / 100) + 0.5 * (1 / 102), 6);
    expect(o.escalatedNatural).toBeCloseTo(26 / 202, 6);
  });
});

describe("shipped toxicity and confidence models", () => {
  const scorer = ToxicityScorer.load();
  const confidence = ConfidenceModel.load();
  it("should stack the network's logit into the score", () => {
    const s = scorer.score("you are a worthless piece of trash");
    expect(s.mlpLogit).not.toBe(0);
    expect(s.score).toBeGreaterThan(scorer.score("what a lovely morning at the park").score);
  });

  it("should leave an empty text to a person", () => {
    const s = scorer.score("");
    const inputs = {
      toxicityScore: s.score,
      language: "und",
      tokens: s.tokens,
      lexiconHits: 0,
      coverage: 0,
    };
    expect(confidence.confidence(inputs)).toBeLessThan(0.6);
  });
});
