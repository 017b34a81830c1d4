/**
 * The fast embedder as a trainable thing: a row-major table whose rows are summed and
 * L2-normalised, with the gradient steps the supervised objectives need (row-wise Adagrad, as in
 * train-fast-embedder.ts). Every step takes its randomness from the caller's seeded generator, so
 * a run repeats byte for byte.
 */
import { sumPool } from "../embedder-fast.js";

export interface Pooled {
  readonly u: Float32Array;
  readonly norm: number;
}

export interface FastStudent {
  readonly table: Float32Array;
  readonly dimension: number;
  unit(ids: Int32Array): Pooled;
  /** Adds −lr·∂L/∂s to every row of the text, given ∂L/∂u for u = s/|s|. */
  backward(ids: Int32Array, pooled: Pooled, gradU: Float32Array, lr: number): void;
}

/**
 * `anchor` (a copy of the starting table) with `anchorWeight` > 0 pulls each updated row back
 * toward where it started: the supervised sets are small, and the rows they touch should keep
 * what distillation taught them about the words the sets do not contrast.
 */
export function createFastStudent(
  table: Float32Array,
  dimension: number,
  options: { adagradInit?: number; anchor?: Float32Array; anchorWeight?: number } = {},
): FastStudent {
  const rows = table.length / dimension;
  const accumulator = new Float32Array(rows).fill(options.adagradInit ?? 1e-6);
  const anchor = options.anchor;
  const anchorWeight = options.anchorWeight ?? 0;

  const unit = (ids: Int32Array): Pooled => {
    const u = new Float32Array(dimension);
    const norm = sumPool(table, dimension, ids, u);
    if (norm > 0) for (let j = 0; j < dimension; j++) u[j]! /= norm;
    return { u, norm };
  };

  const backward = (ids: Int32Array, pooled: Pooled, gradU: Float32Array, lr: number): void => {
    const { u, norm } = pooled;
    if (norm === 0 || ids.length === 0) return;
    let along = 0;
    for (let j = 0; j < dimension; j++) along += gradU[j]! * u[j]!;
    const g = new Float32Array(dimension);
    let square = 0;
    for (let j = 0; j < dimension; j++) {
      g[j] = (gradU[j]! - along * u[j]!) / norm;
      square += g[j]! * g[j]!;
    }
    square /= dimension;
    for (const f of ids) {
      accumulator[f]! += square;
      const step = lr / Math.sqrt(accumulator[f]!);
      const at = f * dimension;
      for (let j = 0; j < dimension; j++) table[at + j]! -= step * g[j]!;
      if (anchor && anchorWeight > 0) {
        const pull = Math.min(1, lr * anchorWeight);
        for (let j = 0; j < dimension; j++)
          table[at + j]! -= pull * (table[at + j]! - anchor[at + j]!);
      }
    }
  };

  return { table, dimension, unit, backward };
}

/** Each feature dropped with probability `rate` (never all of them): the training view of a text. */
export function dropFeatures(ids: Int32Array, rate: number, random: () => number): Int32Array {
  if (rate <= 0 || ids.length < 2) return ids;
  const kept = ids.filter(() => random() >= rate);
  return kept.length > 0 ? kept : ids;
}

/** Squared error between the cosine of a pair and its target similarity in [0, 1]. */
export function cosineRegressionStep(
  student: FastStudent,
  a: Int32Array,
  b: Int32Array,
  target: number,
  weight: number,
  lr: number,
): number {
  const d = student.dimension;
  const pa = student.unit(a);
  const pb = student.unit(b);
  let cos = 0;
  for (let j = 0; j < d; j++) cos += pa.u[j]! * pb.u[j]!;
  const error = cos - target;
  const ga = new Float32Array(d);
  const gb = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    ga[j] = 2 * weight * error * pb.u[j]!;
    gb[j] = 2 * weight * error * pa.u[j]!;
  }
  student.backward(a, pa, ga, lr);
  student.backward(b, pb, gb, lr);
  return error * error;
}

/**
 * In-batch contrastive step (InfoNCE over cosines / temperature): each anchor should be nearer its
 * own positive than every other positive of the batch whose label differs.
 */
export function contrastiveStep(
  student: FastStudent,
  batch: readonly { anchor: Int32Array; positive: Int32Array; label: string }[],
  temperature: number,
  weight: number,
  lr: number,
): number {
  const d = student.dimension;
  const anchors = batch.map((e) => student.unit(e.anchor));
  const positives = batch.map((e) => student.unit(e.positive));
  const gradA = batch.map(() => new Float32Array(d));
  const gradP = batch.map(() => new Float32Array(d));
  let loss = 0;
  for (let i = 0; i < batch.length; i++) {
    const candidates = batch
      .map((_, j) => j)
      .filter((j) => j === i || batch[j]!.label !== batch[i]!.label);
    const logits = candidates.map((j) => {
      let cos = 0;
      for (let k = 0; k < d; k++) cos += anchors[i]!.u[k]! * positives[j]!.u[k]!;
      return cos / temperature;
    });
    const max = Math.max(...logits);
    const exps = logits.map((l) => Math.exp(l - max));
    const sum = exps.reduce((s, e) => s + e, 0);
    candidates.forEach((j, c) => {
      const p = exps[c]! / sum;
      const coef = (weight * (p - (j === i ? 1 : 0))) / temperature;
      if (j === i) loss -= Math.log(p);
      for (let k = 0; k < d; k++) {
        gradA[i]![k]! += coef * positives[j]!.u[k]!;
        gradP[j]![k]! += coef * anchors[i]!.u[k]!;
      }
    });
  }
  batch.forEach((e, i) => {
    student.backward(e.anchor, anchors[i]!, gradA[i]!, lr);
    student.backward(e.positive, positives[i]!, gradP[i]!, lr);
  });
  return loss / batch.length;
}
