/**
 * Trains the sentiment model and writes src/nlp/models/sentiment-v1.json.
 *
 *   npx tsx src/nlp/train/train-sentiment.ts [path/to/sst2-train.jsonl]
 *
 * Data: SST-2 train (60.6k movie-review phrases and sentences, positive/negative). Split by
 * splits.ts; the model trains on train + calibration (sentiment has no calibrated output to
 * fit), and the printed validation accuracy is the one quoted in src/nlp/README.md, measured on
 * the pruned weights that ship. SST-2 holds many phrases of the same sentences, so a
 * validation phrase may share words with a training sentence: the figure is somewhat optimistic
 * for unrelated text. Deterministic: re-running rewrites a byte-identical file.
 */
import { writeFileSync } from "node:fs";

import winkModel from "wink-eng-lite-web-model";
import winkNLP from "wink-nlp";

import { hashFeatures } from "../features.js";
import { readJsonl } from "../jsonl.js";
import type { LinearModelFile } from "../linear-model.js";
import { SENTIMENT_FEATURES, SentimentModel } from "../sentiment.js";
import { sentimentTokens } from "../sentiment-tokens.js";
import { binaryMetrics, type Example, sparsify, trainLinear } from "./linear-trainer.js";
import { splitOf } from "./splits.js";

const MAX_WEIGHTS = 80_000;
const datasetPath = process.argv[2] ?? "/work/shared/datasets/sst2-train.jsonl";
const rows = readJsonl<{ text: string; label: string }>(datasetPath).map((r) => ({
  text: r.text.trim(),
  y: r.label === "positive" ? 1 : 0,
}));
const train = rows.filter((r) => splitOf(r.text) !== "validation");
const validation = rows.filter((r) => splitOf(r.text) === "validation");
const examples: Example[] = train.map((r) => ({
  x: hashFeatures(sentimentTokens(r.text), SENTIMENT_FEATURES),
  y: r.y,
  weight: 1,
}));
const started = performance.now();
const weights = trainLinear(examples, {
  dimension: SENTIMENT_FEATURES.dimension,
  classes: 1,
  epochs: 6,
  learningRate: 0.1,
  l2: 1e-6,
  seed: 23,
});
console.log(
  `train ${train.length} · validation ${validation.length} · trained in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

const row = weights.rows[0] as Float32Array;
const magnitudes = Array.from(row, Math.abs).sort((a, b) => b - a);
const cutoff = Math.max(1e-4, magnitudes[Math.min(MAX_WEIGHTS, magnitudes.length) - 1] ?? 0);
const file: LinearModelFile = {
  name: "sentiment-lr",
  version: 1,
  kind: "binary",
  labels: ["positive"],
  features: SENTIMENT_FEATURES,
  bias: [Math.round((weights.bias[0] ?? 0) * 1e4) / 1e4],
  weights: [sparsify(row, cutoff)],
  trainedOn: `sst2-train.jsonl train+calibration splits (${train.length} rows, fnv1a(text) % 100 >= 15)`,
  metrics: {},
};
const out = new URL("../models/sentiment-v1.json", import.meta.url);
writeFileSync(out, JSON.stringify(file));

const model = SentimentModel.load();
const labels = validation.map((r) => r.y);
const m = binaryMetrics(
  validation.map((r) => model.score(r.text).probability),
  labels,
);
// The seed's lexicon sentiment on the same rows, for the README's before/after.
const nlp = winkNLP(winkModel);
const wink = binaryMetrics(
  validation.map((r) => ((nlp.readDoc(r.text).out(nlp.its.sentiment) as number) >= 0 ? 1 : 0)),
  labels,
);
const sentences = validation.filter((r) => r.text.split(" ").length >= 8);
const mSent = binaryMetrics(
  sentences.map((r) => model.score(r.text).probability),
  sentences.map((r) => r.y),
);
const f = (x: number): string => x.toFixed(3);
console.log(
  `validation accuracy ${f(m.accuracy)} (AUC ${f(m.auc)}); on rows of 8+ words (n=${sentences.length}) ${f(mSent.accuracy)}; wink lexicon ${f(wink.accuracy)}`,
);
writeFileSync(
  out,
  JSON.stringify({
    ...file,
    metrics: {
      validationAccuracy: Number(f(m.accuracy)),
      validationAuc: Number(f(m.auc)),
      validationAccuracy8Words: Number(f(mSent.accuracy)),
      winkAccuracy: Number(f(wink.accuracy)),
    },
  }),
);
console.log(
  `wrote ${out.pathname} (${(JSON.stringify(file).length / 1024).toFixed(0)} KiB, ${(file.weights[0]?.length ?? 0) / 2} weights)`,
);
