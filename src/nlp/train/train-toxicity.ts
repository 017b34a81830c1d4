/**
 * Trains the toxicity classifiers (a linear model and a small hashed-n-gram network), their
 * stacked calibration and the confidence model; writes src/nlp/models/toxicity-v4.json,
 * toxicity-v4-mlp.bin and confidence-v5.json.
 *
 * Data: Davidson et al. 2017 (22.8k tweets, toxic = hate speech or offensive). The validation
 * split of splits.ts (fnv1a % 100 < 15) is never read here (bench/judge/validation.ts reports on
 * it); the other 85 % (train + calibration) is cross-fitted: 5 folds, each fold's logits from
 * models trained on the other four; the calibration (stacking), the confidence model and the
 * policy's toxicityCeiling are fitted on those out-of-fold logits, and the shipped classifiers
 * train on all 85 %. Every figure printed is out-of-fold.
 *
 * - Targets are the annotators' share of "hate or offensive" votes (soft labels): a 2-of-3 vote
 *   is less sure than 3-of-3, and the logits rank better for knowing it.
 * - Davidson's clean class is casual tweets; trained on that alone, news prose (never seen)
 *   lands near the prior. So the hand-written news sentences of topics.jsonl are added as clean
 *   examples, and classes are weighted to balance. Calibration maps the balanced logits to the
 *   tweets' real base rate.
 * - Other prose fared no better: "A girl is flying a kite." scored 0.49 and "A young girl riding
 *   a white and grey horse." 0.83, so the Judge escalated 8 % of clean SST-2 and STS-B sentences
 *   (bench/judge/clean-prose.ts). PROSE_SENTENCES training sentences of theirs (clean-prose.ts,
 *   half each) are added as clean examples at weight 1: 500 took that to 2–3 % with Davidson's
 *   out-of-fold figures unchanged; 1,000 and more cost Davidson escalation (src/nlp/README.md).
 *   Harmful prose lost the same uncertainty, so the written-harm floor fires more readily now
 *   (train-harm.ts).
 *
 *   npx tsx src/nlp/train/train-toxicity.ts [--prose N] [path/to/davidson-train.jsonl]
 *
 * Deterministic (seeded shuffles and inits, hash folds): re-running rewrites identical files.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { expectedCalibrationError as ece, rocAuc } from "../calibration-metrics.js";
import {
  CONFIDENCE_MODEL_FILE,
  confidenceFeatures,
  type ConfidenceModelFile,
} from "../confidence.js";
import { hashFeatures } from "../features.js";
import { decodeHashedMlp, encodeHashedMlp, HashedMlp } from "../hashed-mlp.js";
import { readJsonl } from "../jsonl.js";
import { detectLanguage } from "../language.js";
import { normalizeText } from "../normalize.js";
import {
  calibrationInputs,
  TOXICITY_FEATURES,
  TOXICITY_MODEL_FILE,
  type ToxicityModelFile,
  ToxicityScorer,
} from "../toxicity.js";
import { cleanProse } from "./clean-prose.js";
import {
  type DenseLogistic,
  fitDenseLogistic,
  logLoss,
  predictDenseLogistic,
} from "./dense-logistic.js";
import { sparsify } from "./linear-trainer.js";
import { printOperatingPoints } from "./operating-points.js";
import { oracleCurve } from "./oracle-curve.js";
import { splitOf, trainingText } from "./splits.js";
import { crossFitToxicity, type ToxicityRow } from "./toxicity-crossfit.js";

const FOLDS = 5;
/** The CV log loss a richer stacking or confidence candidate must save over a simpler one. */
const MIN_GAIN = 0.0005;
const NEWS_WEIGHT = 2;
/** Clean prose sentences (SST-2, STS-B training rows) added to the clean class (header). */
const PROSE_SENTENCES = 500;
/** The shipped JSON keeps the largest linear weights only, to stay under ~1 MB. */
const MAX_WEIGHTS = 70_000;
/**
 * The policy target is at most 1 % of clean items rejected; the ceiling is chosen for 0.75 %
 * out-of-fold, because the third-party check holds ~1,000 clean tweets (1 % = 10) and a ceiling
 * set right at 1 % would exceed it on a fresh sample about half the time.
 */
const CEILING_CLEAN_REJECTED = 0.0075;
const MLP = { buckets: 1 << 16, hidden: 8, epochs: 6, learningRate: 0.05, l2: 1e-6, seed: 7 };
const MLP_FILE = "toxicity-v4-mlp.bin";

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { prose: { type: "string", default: String(PROSE_SENTENCES) } },
});
const proseCount = Number(args.prose);
if (!Number.isInteger(proseCount) || proseCount < 0)
  throw new Error(`--prose must be a non-negative integer, got ${args.prose}`);
const datasetPath = positionals[0] ?? "/work/shared/datasets/davidson-train.jsonl";
type Votes = { hate: number; offensive: number; neither: number };
const pool: (ToxicityRow & { calibrationSplit: boolean })[] = readJsonl<{
  text: string;
  label: string;
  votes: Votes;
}>(datasetPath)
  .map((r) => ({ r, text: trainingText(r.text) }))
  .filter(({ text }) => splitOf(text) !== "validation")
  .map(({ r, text }) => {
    const total = r.votes.hate + r.votes.offensive + r.votes.neither;
    const y = r.label === "toxic" ? 1 : 0;
    return {
      text,
      y,
      soft: total > 0 ? (r.votes.hate + r.votes.offensive) / total : y,
      x: hashFeatures(text, TOXICITY_FEATURES),
      calibrationSplit: splitOf(text) === "calibration",
    };
  });
const labels = pool.map((r) => r.y);
const news = readJsonl<{ text: string }>(new URL("../data/topics.jsonl", import.meta.url)).map(
  (r) => normalizeText(r.text, 5000),
);
const heldOutNews = readJsonl<{ text: string }>(
  new URL("../data/similarity-pairs.jsonl", import.meta.url),
).map((r) => normalizeText(r.text, 5000));
// Half SST-2 sentences, half STS-B sentences, training rows only (clean-prose.ts).
const prose = [
  ...cleanProse("sst2", "train").slice(0, Math.ceil(proseCount / 2)),
  ...cleanProse("stsb", "train").slice(0, Math.floor(proseCount / 2)),
].map((t) => trainingText(t));
console.log(
  `cross-fitting on ${pool.length} tweets (train + calibration splits, ${labels.filter((y) => y === 1).length} toxic) + ${news.length} news sentences and ${prose.length} prose sentences (clean); validation untouched`,
);

// 1. The classifiers, cross-fitted.
const fit = crossFitToxicity(
  pool,
  {
    folds: FOLDS,
    dimension: TOXICITY_FEATURES.dimension,
    extraClean: [
      ...news.map((t) => ({ x: hashFeatures(t, TOXICITY_FEATURES), weight: NEWS_WEIGHT })),
      ...prose.map((t) => ({ x: hashFeatures(t, TOXICITY_FEATURES), weight: 1 })),
    ],
    maxLinearWeights: MAX_WEIGHTS,
    linear: { epochs: 6, learningRate: 0.1, l2: 1e-6, seed: 11 },
    mlp: MLP,
  },
  (line) => console.log(line),
);
const mlpBytes = encodeHashedMlp(fit.full.mlp);
const mlpHeader = { buckets: MLP.buckets, hidden: MLP.hidden, file: MLP_FILE };
const shippedMlp = new HashedMlp(decodeHashedMlp(mlpBytes, mlpHeader));
const uncalibrated: ToxicityModelFile = {
  name: "toxicity-stack",
  version: 4,
  kind: "binary",
  labels: ["toxic"],
  features: TOXICITY_FEATURES,
  bias: [fit.full.linear.bias],
  weights: [sparsify(fit.full.linear.row, 1e-9)],
  trainedOn: `davidson-train.jsonl train + calibration splits (fnv1a(text) % 100 >= 15, ${pool.length} tweets, soft labels from votes) + src/nlp/data/topics.jsonl as clean news (${news.length})${prose.length > 0 ? ` + ${prose.length} SST-2/STS-B training sentences as clean prose` : ""}; linear model + hashed MLP (${MLP.buckets} buckets x ${MLP.hidden}), stacked and calibrated on ${FOLDS}-fold out-of-fold logits`,
  metrics: {},
  calibration: { features: ["logit"], coefficients: [1], intercept: 0 },
  mlp: mlpHeader,
};

// 2. Calibration (stacking) on out-of-fold logits: the candidate with the lowest CV log loss ships.
const lexiconScorer = new ToxicityScorer(uncalibrated, shippedMlp);
const signals = pool.map((r, i) => ({
  ...lexiconScorer.signals(r.text),
  logit: fit.outOfFold.linear[i] ?? 0,
  mlpLogit: fit.outOfFold.mlp[i] ?? 0,
  coverage: fit.outOfFold.coverage[i] ?? 0,
}));
const candidates: Record<string, string[]> = {
  platt: ["logit"],
  "platt+lexicon": ["logit", "lexicon", "directedLexicon"],
  stack: ["logit", "mlp"],
  "stack+lexicon": ["logit", "mlp", "lexicon", "directedLexicon"],
};
const best = choose(
  candidates,
  (features) => signals.map((s) => features.map((f) => calibrationInputs(s)[f] ?? 0)),
  labels,
  "toxicity calibration",
);
const fitted = fitDenseLogistic(
  signals.map((s) => best.features.map((f) => calibrationInputs(s)[f] ?? 0)),
  labels,
);
const toxicityFile: ToxicityModelFile = {
  ...uncalibrated,
  calibration: {
    features: best.features,
    coefficients: fitted.coefficients.map(round),
    intercept: round(fitted.intercept),
  },
};
console.log(
  `chose ${best.name}: ${best.features.map((f, i) => `${f} ${toxicityFile.calibration.coefficients[i]}`).join(", ")}, intercept ${toxicityFile.calibration.intercept}`,
);
const scorer = new ToxicityScorer(toxicityFile, shippedMlp);
const scored = signals.map((s) => scorer.calibrate(s));
const p = scored.map((s) => s.score);

// 3. The oracle curve: the least escalation any thresholds reach at a given leak, per ranking.
console.log(
  "oracle curve (out-of-fold; thresholds picked on the set itself, so a lower bound): leak → escalated natural / balanced",
);
const onCalibration = (xs: readonly number[]): number[] =>
  xs.filter((_, i) => pool[i]?.calibrationSplit);
for (const [name, scores] of [
  ["linear logit", fit.outOfFold.linear],
  ["mlp logit", fit.outOfFold.mlp],
  [`calibrated (${best.name})`, p],
] as const) {
  const curve = (s: readonly number[], y: readonly number[]): string =>
    oracleCurve(s, y)
      .map((o) => `${o.leak}: ${o.escalatedNatural.toFixed(3)} / ${o.escalatedBalanced.toFixed(3)}`)
      .join(" · ");
  console.log(
    `  ${name.padEnd(28)} AUC ${rocAuc(scores, labels).toFixed(4)} · 85 %: ${curve(scores, labels)}`,
  );
  console.log(
    `  ${"".padEnd(28)} calibration split only: ${curve(onCalibration(scores), onCalibration(labels))}`,
  );
}
const newsScores = heldOutNews.map((t) => scorer.score(t).score);
const toxicityMetrics = {
  outOfFoldAuc: round3(rocAuc(p, labels)),
  outOfFoldEce: round3(ece(p, labels)),
  outOfFoldLogLoss: round3(logLoss(p, labels)),
  heldOutNewsAtLeastHalf: newsScores.filter((s) => s >= 0.5).length,
  heldOutNewsMax: round3(Math.max(...newsScores)),
};
console.log(`calibrated toxicity, out-of-fold: ${JSON.stringify(toxicityMetrics)}`);
writeFileSync(new URL(`../models/${MLP_FILE}`, import.meta.url), mlpBytes);
writeFileSync(
  new URL(`../models/${TOXICITY_MODEL_FILE}`, import.meta.url),
  JSON.stringify({ ...toxicityFile, metrics: toxicityMetrics }),
);

// 4. Confidence: P(automatic decision upheld), by the same kind of model and selection.
const upheld: number[] = p.map((q, i) => (q >= 0.5 === (labels[i] === 1) ? 1 : 0));
const confInputs = pool.map((r, i) => {
  const s = scored[i] as (typeof scored)[number];
  return {
    toxicityScore: s.score,
    language: detectLanguage(r.text).language,
    tokens: s.tokens,
    lexiconHits: s.lexiconHits,
    coverage: s.coverage,
  };
});
const confCandidates: Record<string, string[]> = {
  margin: ["margin"],
  "margin+side": ["margin", "leansToxic", "marginIfToxic"],
  "margin+side+text": [
    "margin",
    "leansToxic",
    "marginIfToxic",
    "logTokens",
    "lexicon",
    "coverage",
    "undetermined",
  ],
};
const conf = choose(
  confCandidates,
  (features) => confInputs.map((c) => features.map((f) => confidenceFeatures(c)[f] ?? 0)),
  upheld,
  "confidence",
);
const confFit = fitDenseLogistic(
  confInputs.map((c) => conf.features.map((f) => confidenceFeatures(c)[f] ?? 0)),
  upheld,
);
const confidence = confInputs.map((c) =>
  predictDenseLogistic(
    confFit,
    conf.features.map((f) => confidenceFeatures(c)[f] ?? 0),
  ),
);
const confidenceFile: ConfidenceModelFile = {
  name: "confidence-lr",
  version: 5,
  features: conf.features,
  coefficients: confFit.coefficients.map(round),
  intercept: round(confFit.intercept),
  trainedOn: `davidson-train.jsonl train + calibration splits (${pool.length} tweets), out-of-fold toxicity: label = the automatic decision (toxicity >= 0.5 rejects) matches the annotators' label; features chosen by ${FOLDS}-fold CV log loss, a richer set only when it saves ${MIN_GAIN} (${conf.name})`,
  metrics: {
    outOfFoldEce: round3(ece(confidence, upheld)),
    outOfFoldUpheldRate: round3(upheld.reduce((a, b) => a + b, 0) / upheld.length),
  },
};
console.log(
  `chose ${conf.name}: ${conf.features.map((f, i) => `${f} ${confidenceFile.coefficients[i]}`).join(", ")}, intercept ${confidenceFile.intercept}; ${JSON.stringify(confidenceFile.metrics)}`,
);
writeFileSync(
  new URL(`../models/${CONFIDENCE_MODEL_FILE}`, import.meta.url),
  `${JSON.stringify(confidenceFile, null, 2)}\n`,
);

// 5. The operating point, out-of-fold (operating-points.ts): judge-policy.ts's default ceiling
// is set from these lines.
printOperatingPoints(p, confidence, labels, CEILING_CLEAN_REJECTED, (line) => console.log(line));

function choose(
  sets: Record<string, string[]>,
  matrixOf: (features: string[]) => number[][],
  y: number[],
  what: string,
): { name: string; features: string[] } {
  let chosen: { name: string; features: string[]; loss: number } | undefined;
  // Candidates come simplest first; a richer one must lower the CV log loss by MIN_GAIN to
  // replace the one chosen so far. Without that margin the confidence model flipped between
  // candidates 0.0001 apart when a few rows' scores moved (the harm patterns' floors).
  for (const [name, features] of Object.entries(sets)) {
    const loss = crossValidatedLoss(matrixOf(features), y);
    console.log(`${what} ${name}: CV log loss ${loss.toFixed(4)}`);
    if (!chosen || loss <= chosen.loss - MIN_GAIN) chosen = { name, features, loss };
  }
  return chosen as { name: string; features: string[] };
}

/** Stacker/confidence CV over the same folds the classifiers were cross-fitted on. */
function crossValidatedLoss(matrix: number[][], y: number[]): number {
  const predictions = new Array<number>(y.length).fill(0.5);
  for (let fold = 0; fold < FOLDS; fold++) {
    const trainIdx = y.map((_, i) => i).filter((i) => fit.foldOf[i] !== fold);
    const model: DenseLogistic = fitDenseLogistic(
      trainIdx.map((i) => matrix[i] as number[]),
      trainIdx.map((i) => y[i] ?? 0),
    );
    y.forEach((_, i) => {
      if (fit.foldOf[i] === fold)
        predictions[i] = predictDenseLogistic(model, matrix[i] as number[]);
    });
  }
  return logLoss(predictions, y);
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
function round3(x: number): number {
  return Math.round(x * 1e3) / 1e3;
}
