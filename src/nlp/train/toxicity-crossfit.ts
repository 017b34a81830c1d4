import { fnv1a, sparseDot, type SparseVector } from "../features.js";
import { HashedMlp, type HashedMlpWeights } from "../hashed-mlp.js";
import { type Example, keepLargest, trainLinear } from "./linear-trainer.js";
import { trainHashedMlp } from "./mlp-trainer.js";

/** A labelled tweet as the toxicity trainer reads it. */
export interface ToxicityRow {
  readonly text: string;
  /** The annotators' majority label: 1 toxic, 0 clean. */
  readonly y: number;
  /** Share of "hate or offensive" votes: the training target. */
  readonly soft: number;
  readonly x: SparseVector;
}

export interface CrossFitOptions {
  readonly folds: number;
  readonly dimension: number;
  /**
   * Clean examples added to every training set (news sentences, prose), each with a multiplier
   * of the clean class's weight.
   */
  readonly extraClean: readonly { x: SparseVector; weight: number }[];
  /** Linear weights with |w| below the cut that keeps this many are dropped (file size). */
  readonly maxLinearWeights: number;
  readonly linear: { epochs: number; learningRate: number; l2: number; seed: number };
  readonly mlp: {
    buckets: number;
    hidden: number;
    epochs: number;
    learningRate: number;
    l2: number;
    seed: number;
  };
}

export interface ToxicityModels {
  readonly linear: { row: Float32Array; bias: number };
  readonly mlp: HashedMlpWeights;
}

export interface CrossFitResult {
  /** Models trained on every row: what ships. */
  readonly full: ToxicityModels;
  /** Per row, the logits of the models trained without that row's fold. */
  readonly outOfFold: { linear: number[]; mlp: number[]; coverage: number[] };
  readonly foldOf: number[];
}

/**
 * Cross-fitting: K models, each trained without one fold, give every row a logit from a model
 * that never saw it (what calibration and the confidence model are fitted on); the shipped
 * models train on all rows. So the calibration no longer needs its own held-back split, and the
 * classifiers see every labelled tweet but the validation split.
 */
export function crossFitToxicity(
  rows: readonly ToxicityRow[],
  options: CrossFitOptions,
  log: (line: string) => void,
): CrossFitResult {
  const foldOf = rows.map((r) => fnv1a(`fold:${r.text}`) % options.folds);
  const linear = new Array<number>(rows.length).fill(0);
  const mlp = new Array<number>(rows.length).fill(0);
  const coverage = new Array<number>(rows.length).fill(0);
  for (let fold = 0; fold < options.folds; fold++) {
    const started = performance.now();
    const models = trainModels(
      rows.filter((_, i) => foldOf[i] !== fold),
      options,
    );
    const net = new HashedMlp(models.mlp);
    rows.forEach((r, i) => {
      if (foldOf[i] !== fold) return;
      linear[i] = sparseDot(r.x, models.linear.row) + models.linear.bias;
      mlp[i] = net.logit(r.x);
      let known = 0;
      for (const index of r.x.indices) if ((models.linear.row[index] ?? 0) !== 0) known++;
      coverage[i] = r.x.indices.length > 0 ? known / r.x.indices.length : 0;
    });
    log(
      `fold ${fold + 1}/${options.folds} trained in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  const started = performance.now();
  const full = trainModels(rows, options);
  log(`full models trained in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { full, outOfFold: { linear, mlp, coverage }, foldOf };
}

/** Both classifiers on soft targets, classes weighted to balance (news counts as clean). */
function trainModels(rows: readonly ToxicityRow[], options: CrossFitOptions): ToxicityModels {
  const positives = rows.filter((r) => r.y === 1).length;
  const negatives =
    rows.length - positives + options.extraClean.reduce((sum, e) => sum + e.weight, 0);
  const total = positives + negatives;
  const weightOf = (y: number): number =>
    y === 1 ? total / (2 * positives) : total / (2 * negatives);
  const examples: Example[] = [
    ...rows.map((r) => ({ x: r.x, y: r.soft, weight: weightOf(r.y) })),
    ...options.extraClean.map((e) => ({ x: e.x, y: 0, weight: weightOf(0) * e.weight })),
  ];
  const trained = trainLinear(examples, {
    dimension: options.dimension,
    classes: 1,
    ...options.linear,
  });
  const row = keepLargest(trained.rows[0] as Float32Array, options.maxLinearWeights);
  const mlp = trainHashedMlp(examples, options.mlp);
  return { linear: { row, bias: round4(trained.bias[0] ?? 0) }, mlp };
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
