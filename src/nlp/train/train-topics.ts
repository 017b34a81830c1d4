/**
 * Trains the topic classifier on src/nlp/data/topics.jsonl and writes src/nlp/models/topics-v1.json.
 * Reports 5-fold cross-validated accuracy (each example is held out exactly once, stratified by
 * label), then fits the shipped model on all examples.
 *
 *   npx tsx src/nlp/train/train-topics.ts
 */
import { readFileSync, writeFileSync } from "node:fs";

import { featureTokens } from "../features.js";
import type { LinearModelFile } from "../linear-model.js";
import { normalizeText } from "../normalize.js";
import {
  lexiconHits,
  loadTopicLexicons,
  TOPIC_FEATURES,
  TOPIC_LABELS,
  topicFeatures,
} from "../topics.js";
import { type Example, sparsify, trainLinear, type TrainOptions } from "./linear-trainer.js";

const FOLDS = 5;
const OPTIONS: TrainOptions = {
  dimension: TOPIC_FEATURES.dimension,
  classes: TOPIC_LABELS.length,
  epochs: 30,
  learningRate: 0.5,
  l2: 1e-3,
  seed: 7,
};

interface Row {
  text: string;
  label: string;
}

const rows = readFileSync(new URL("../data/topics.jsonl", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as Row);
const lexicons = loadTopicLexicons();
const labelIndex = new Map<string, number>(TOPIC_LABELS.map((l, i) => [l, i]));
const seen = new Map<string, number>();
const data = rows.map((row) => {
  const y = labelIndex.get(row.label);
  if (y === undefined) throw new Error(`unknown label ${row.label}`);
  // Stratified folds: the n-th example of each label goes to fold n mod FOLDS.
  const nth = seen.get(row.label) ?? 0;
  seen.set(row.label, nth + 1);
  const example: Example = {
    x: topicFeatures(normalizeText(row.text, 5000), lexicons).vector,
    y,
    weight: 1,
  };
  return { example, fold: nth % FOLDS };
});

function predict(weights: ReturnType<typeof trainLinear>, example: Example): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  weights.rows.forEach((row, c) => {
    let s = weights.bias[c] ?? 0;
    for (let j = 0; j < example.x.indices.length; j++)
      s += (row[example.x.indices[j] ?? 0] ?? 0) * (example.x.values[j] ?? 0);
    if (s > bestScore) {
      bestScore = s;
      best = c;
    }
  });
  return best;
}

let correct = 0;
const perLabel = new Map<string, { correct: number; total: number }>();
for (let fold = 0; fold < FOLDS; fold++) {
  const train = data.filter((d) => d.fold !== fold).map((d) => d.example);
  const test = data.filter((d) => d.fold === fold).map((d) => d.example);
  const weights = trainLinear(train, OPTIONS);
  let foldCorrect = 0;
  for (const ex of test) {
    const ok = predict(weights, ex) === ex.y;
    if (ok) foldCorrect++;
    const label = TOPIC_LABELS[ex.y] ?? "?";
    const stat = perLabel.get(label) ?? { correct: 0, total: 0 };
    stat.total++;
    if (ok) stat.correct++;
    perLabel.set(label, stat);
  }
  correct += foldCorrect;
  console.log(
    `fold ${fold}: accuracy ${(foldCorrect / test.length).toFixed(3)} (${foldCorrect}/${test.length})`,
  );
}
const accuracy = correct / data.length;
// Baseline: the lexicon alone (argmax of hits, ties and misses counted wrong), to show what the
// trained model adds over keyword counting.
const lexiconCorrect = rows.filter((row) => {
  const hits = lexiconHits(featureTokens(normalizeText(row.text, 5000)), lexicons);
  const ranked = Object.entries(hits).sort((a, b) => b[1] - a[1]);
  return (ranked[0]?.[1] ?? 0) > (ranked[1]?.[1] ?? 0) && ranked[0]?.[0] === row.label;
}).length;
console.log(`lexicon-only baseline accuracy: ${(lexiconCorrect / rows.length).toFixed(3)}`);
console.log(`5-fold cross-validated accuracy: ${accuracy.toFixed(3)} (${correct}/${data.length})`);
for (const [label, s] of perLabel)
  console.log(`  ${label.padEnd(14)} ${(s.correct / s.total).toFixed(2)}`);

const final = trainLinear(
  data.map((d) => d.example),
  OPTIONS,
);
// A second, fully independent check: the similarity set's news items carry a topic and were
// written separately from topics.jsonl; the final model never sees them.
const heldOut = readFileSync(new URL("../data/similarity-pairs.jsonl", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as { text: string; topic: string });
const heldOutCorrect = heldOut.filter(
  (row) =>
    predict(final, {
      x: topicFeatures(normalizeText(row.text, 5000), lexicons).vector,
      y: 0,
      weight: 1,
    }) === labelIndex.get(row.topic),
).length;
const heldOutAccuracy = heldOutCorrect / heldOut.length;
console.log(
  `held-out news (similarity-pairs.jsonl) accuracy: ${heldOutAccuracy.toFixed(3)} (${heldOutCorrect}/${heldOut.length})`,
);

const file: LinearModelFile = {
  name: "topics-lr",
  version: 1,
  kind: "softmax",
  labels: TOPIC_LABELS,
  features: TOPIC_FEATURES,
  bias: final.bias.map((b) => Math.round(b * 1e4) / 1e4),
  weights: final.rows.map((row) => sparsify(row, 4e-3)),
  trainedOn: `src/nlp/data/topics.jsonl (${data.length} hand-written examples) + src/nlp/data/topic-lexicons.json`,
  metrics: {
    cvAccuracy: Math.round(accuracy * 1000) / 1000,
    heldOutNewsAccuracy: Math.round(heldOutAccuracy * 1000) / 1000,
    lexiconOnlyAccuracy: Math.round((lexiconCorrect / rows.length) * 1000) / 1000,
    folds: FOLDS,
    examples: data.length,
  },
};
const out = new URL("../models/topics-v1.json", import.meta.url);
writeFileSync(out, JSON.stringify(file));
console.log(`wrote ${out.pathname} (${(JSON.stringify(file).length / 1024).toFixed(0)} KiB)`);
