/**
 * Trains the written-harm classifier (src/nlp/models/harm-v2.json): a logistic regression on the
 * toxicity model's hashed features that tells harm written without a swear word or a slur
 * ("those migrants are vermin and should be exterminated", veiled threats, urging self-harm)
 * from clean text. Davidson's tweets, the toxicity model's data, were collected by searching
 * slurs and hold almost none of it; adding such posts to that model's training set cost its
 * Davidson ranking (src/nlp/README.md), so this is a model of its own whose hit works as the harm
 * patterns' do: a floor that sends the item to a human, never a rejection.
 *
 *   npx tsx src/nlp/train/train-harm.ts
 *
 * - src/nlp/data/written-harm.jsonl, written for the project by engineers who had not seen the
 *   evaluation sets (bench/judge/data/harm-probe-*.jsonl): 400 harmful posts (dehumanisation,
 *   elimination, threats, harassment, group contempt) and 420 clean ones a careless model would
 *   flag (news of violence, counter-speech, sport and idioms, everyday negations and "you
 *   should …", animals and health, posts about groups).
 * - Further negatives: Davidson's clean tweets outside its validation split, SST-2 sentences and short
 *   phrases and STS-B sentences from their train splits, the hand-written news sentences: clean
 *   text of every register and length the gateway sees, so a hit means harm and not "prose",
 *   "tweet" or "short". Unweighted, so text the model knows nothing about scores low.
 * - The threshold: the score that 1 % of the negatives reach out-of-fold (5 folds), so the
 *   floor costs about one escalation in 100 clean items. It was 0.5 % while the toxicity model
 *   knew no prose: its uncertainty on anything that was not a tweet escalated harmful prose too
 *   (with 8 % of clean prose). Since it learns clean prose (train-toxicity.ts), this floor is
 *   what sends slur-free harm to a human, and 1 % of clean texts is what the clean probe posts
 *   could take without escalating more of them than before (src/nlp/README.md).
 * Deterministic (seeded shuffles, hash folds): re-running rewrites an identical file.
 */
import { writeFileSync } from "node:fs";

import { fnv1a, hashFeatures, sigmoid, sparseDot, type SparseVector } from "../features.js";
import { HARM_MODEL_FILE, type HarmModelFile } from "../harm-classifier.js";
import { readJsonl } from "../jsonl.js";
import { normalizeText } from "../normalize.js";
import { TOXICITY_FEATURES } from "../toxicity.js";
import { corpusRows } from "./corpora.js";
import { keepLargest, sparsify, trainLinear } from "./linear-trainer.js";
import { splitOf, trainingText } from "./splits.js";

const FOLDS = 5;
/** Share of clean texts the floor may send to a human (out-of-fold). */
const CLEAN_FIRING = 0.01;
/** Clean sentences taken from each of SST-2 and STS-B. */
const PROSE_PER_CORPUS = 1000;
/** Short clean phrases (SST-2, 2–7 words): "nothing happens", "no way" are not harm. */
const SHORT_PHRASES = 2000;
/** Weights kept in the file (largest first), so it stays small. */
const MAX_WEIGHTS = 30_000;
const LINEAR = { epochs: 6, learningRate: 0.1, l2: 1e-6, seed: 11 };

const distinct = (texts: readonly string[]): string[] => [...new Set(texts.map(trainingText))];
/** The first `n` distinct texts of a corpus's train split, in file order. */
const trainSplit = (texts: readonly string[], n: number): string[] =>
  distinct(texts)
    .filter((t) => splitOf(t) === "train")
    .slice(0, n);
const words = (t: string) => t.split(" ").length;
const sst2 = corpusRows<{ text: string }>("sst2").map((r) => r.text);
const written = readJsonl<{ text: string; label: "toxic" | "clean" }>(
  new URL("../data/written-harm.jsonl", import.meta.url),
);
const positives = distinct(written.filter((r) => r.label === "toxic").map((r) => r.text));
const negatives = [
  ...distinct(written.filter((r) => r.label === "clean").map((r) => r.text)),
  ...distinct(
    corpusRows<{ text: string; label: string }>("davidson")
      .filter((r) => r.label === "clean")
      .map((r) => r.text),
  ).filter((t) => splitOf(t) !== "validation"),
  ...trainSplit(
    sst2.filter((t) => words(t) >= 8),
    PROSE_PER_CORPUS,
  ),
  ...trainSplit(
    sst2.filter((t) => words(t) >= 2 && words(t) < 8),
    SHORT_PHRASES,
  ),
  ...trainSplit(
    corpusRows<{ a: string; b: string }>("stsb").flatMap((r) => [r.a, r.b]),
    PROSE_PER_CORPUS,
  ),
  ...readJsonl<{ text: string }>(new URL("../data/topics.jsonl", import.meta.url)).map((r) =>
    normalizeText(r.text, 5000),
  ),
];
const rows = [
  ...positives.map((text) => ({ text, y: 1 })),
  ...negatives.map((text) => ({ text, y: 0 })),
].map((r) => ({ ...r, x: hashFeatures(r.text, TOXICITY_FEATURES) }));
console.log(`${positives.length} written harm posts, ${negatives.length} clean texts`);

function train(subset: readonly { x: SparseVector; y: number }[]): {
  row: Float32Array;
  bias: number;
} {
  // Unweighted: with the classes balanced, the bias made text the model knows nothing about
  // ("qwerty zxcv") score 0.66 and short everyday posts ("nobody came to the party") hit.
  const trained = trainLinear(
    subset.map((r) => ({ x: r.x, y: r.y, weight: 1 })),
    { dimension: TOXICITY_FEATURES.dimension, classes: 1, ...LINEAR },
  );
  return { row: trained.rows[0] as Float32Array, bias: trained.bias[0] ?? 0 };
}

const foldOf = rows.map((r) => fnv1a(`harm-fold:${r.text}`) % FOLDS);
const outOfFold = new Array<number>(rows.length).fill(0);
for (let fold = 0; fold < FOLDS; fold++) {
  const model = train(rows.filter((_, i) => foldOf[i] !== fold));
  rows.forEach((r, i) => {
    if (foldOf[i] === fold) outOfFold[i] = sigmoid(sparseDot(r.x, model.row) + model.bias);
  });
}
const cleanScores = outOfFold.filter((_, i) => rows[i]?.y === 0).sort((a, b) => b - a);
const threshold =
  Math.round((cleanScores[Math.floor(CLEAN_FIRING * cleanScores.length)] ?? 1) * 1000) / 1000;
const recall =
  outOfFold.filter((s, i) => rows[i]?.y === 1 && s >= threshold).length / positives.length;
console.log(
  `threshold ${threshold}: out-of-fold, ${(CLEAN_FIRING * 100).toFixed(1)} % of clean texts and ${(recall * 100).toFixed(1)} % of written harm reach it`,
);

const full = train(rows);
const file: HarmModelFile = {
  name: "harm-lr",
  version: 2,
  kind: "binary",
  labels: ["harm"],
  features: TOXICITY_FEATURES,
  bias: [Math.round(full.bias * 1e4) / 1e4],
  weights: [sparsify(keepLargest(full.row, MAX_WEIGHTS), 1e-9)],
  threshold,
  trainedOn: `src/nlp/data/written-harm.jsonl (${positives.length} harmful posts) against ${negatives.length} clean texts (its clean posts, Davidson clean outside validation, SST-2 train-split sentences and short phrases, STS-B train-split sentences, news sentences); threshold: ${CLEAN_FIRING} of clean texts out-of-fold (${FOLDS} folds)`,
  metrics: {
    outOfFoldRecall: Math.round(recall * 1000) / 1000,
    outOfFoldCleanFiring: CLEAN_FIRING,
  },
};
writeFileSync(new URL(`../models/${HARM_MODEL_FILE}`, import.meta.url), JSON.stringify(file));
console.log(`wrote src/nlp/models/${HARM_MODEL_FILE}`);
