import { readFileSync } from "node:fs";

import { type FeatureOptions, sigmoid, softmax, type SparseVector } from "./features.js";

/**
 * The on-disk form of a trained linear model over hashed features. Only non-zero weights are
 * stored (index/weight pairs per class), which keeps the JSON small enough to ship in git.
 */
export interface LinearModelFile {
  readonly name: string;
  readonly version: number;
  readonly kind: "binary" | "softmax";
  readonly labels: readonly string[];
  readonly features: Omit<FeatureOptions, "extra">;
  readonly bias: readonly number[];
  /** One entry per class (one for binary): flat [index, weight, index, weight, ...]. */
  readonly weights: readonly (readonly number[])[];
  readonly trainedOn: string;
  readonly metrics: Readonly<Record<string, number>>;
}

/**
 * A loaded linear model: dense weights for fast dot products with sparse inputs, stored
 * index-major (the weights of all classes for one feature side by side), so scoring a sparse
 * vector touches one cache line per feature rather than one per feature and class.
 *
 * A multi-class model whose non-zero weights sit on few features keeps only those features'
 * rows, found through a row table: the topic model has weights on 8,631 of its 65,536
 * features, so its 2.6 MB of mostly-zero rows become ~0.6 MB, which stays in cache next to the
 * other models. Skipping a zero row changes no sum (adding ±0 to a sum leaves it as it was).
 */
export class LinearModel {
  readonly name: string;
  readonly labels: readonly string[];
  readonly features: Omit<FeatureOptions, "extra">;
  /** weights[row * classes + k]: class k's weight of the feature stored in `row`. */
  private readonly weights: Float32Array;
  /** Feature index → row in `weights`, −1 for a feature without weights; undefined: row = index. */
  private readonly rows: Int32Array | undefined;
  private readonly classes: number;
  private readonly bias: readonly number[];

  constructor(file: LinearModelFile) {
    this.name = `${file.name}-v${file.version}`;
    this.labels = file.labels;
    this.features = file.features;
    this.bias = file.bias;
    const classes = file.weights.length;
    this.classes = classes;
    const dimension = file.features.dimension;
    const used = new Set<number>();
    for (const pairs of file.weights)
      for (let i = 0; i + 1 < pairs.length; i += 2)
        if ((pairs[i + 1] ?? 0) !== 0) used.add(pairs[i] ?? 0);
    // Packed only where it saves memory: the row table costs 4 bytes per feature.
    const packed = used.size * classes + dimension < dimension * classes;
    if (packed) {
      this.rows = new Int32Array(dimension).fill(-1);
      [...used].sort((a, b) => a - b).forEach((index, row) => (this.rows![index] = row));
    }
    this.weights = new Float32Array((packed ? used.size : dimension) * classes);
    file.weights.forEach((pairs, k) => {
      for (let i = 0; i + 1 < pairs.length; i += 2) {
        const row = this.rowOf(pairs[i] ?? 0);
        if (row >= 0) this.weights[row * classes + k] = pairs[i + 1] ?? 0;
      }
    });
  }

  static load(url: URL): LinearModel {
    return new LinearModel(JSON.parse(readFileSync(url, "utf8")) as LinearModelFile);
  }

  private rowOf(index: number): number {
    return this.rows ? (this.rows[index] ?? -1) : index;
  }

  /** Raw scores, one per class (one for a binary model). */
  logits(vector: SparseVector): number[] {
    const { classes, weights, rows } = this;
    if (classes === 1) return [this.binaryLogit(vector)];
    const sums = new Float64Array(classes);
    const { indices, values } = vector;
    // Per class the products are summed in index order, as sparseDot does over a dense row.
    // The row lookup is rowOf's, inlined with the fields in locals: V8 reloaded them per feature.
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i] ?? 0;
      const row = rows ? (rows[index] ?? -1) : index;
      if (row < 0) continue;
      const offset = row * classes;
      const value = values[i] ?? 0;
      for (let k = 0; k < classes; k++)
        sums[k] = (sums[k] ?? 0) + (weights[offset + k] ?? 0) * value;
    }
    return Array.from(sums, (sum, k) => sum + (this.bias[k] ?? 0));
  }

  /**
   * logits() of a binary model, the sum in a local: the same additions in the same order,
   * without a store and a reload per feature (the sentiment model's case).
   */
  private binaryLogit(vector: SparseVector): number {
    const { weights, rows } = this;
    const { indices, values } = vector;
    let sum = 0;
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i] ?? 0;
      const row = rows ? (rows[index] ?? -1) : index;
      if (row < 0) continue;
      sum += (weights[row] ?? 0) * (values[i] ?? 0);
    }
    return sum + (this.bias[0] ?? 0);
  }

  /** Share of the vector's features that have a weight in the first row (after pruning). */
  coverage(vector: SparseVector): number {
    if (this.classes === 0 || vector.indices.length === 0) return 0;
    let known = 0;
    for (let i = 0; i < vector.indices.length; i++) {
      const row = this.rowOf(vector.indices[i] ?? 0);
      if (row >= 0 && (this.weights[row * this.classes] ?? 0) !== 0) known++;
    }
    return known / vector.indices.length;
  }

  /** Class k's weight of feature `index` (0 for a feature without weights). */
  weight(index: number, k: number): number {
    const row = this.rowOf(index);
    return row < 0 ? 0 : (this.weights[row * this.classes + k] ?? 0);
  }

  /** Number of classes: one for a binary model. */
  get classCount(): number {
    return this.classes;
  }

  /** Class k's bias. */
  biasOf(k: number): number {
    return this.bias[k] ?? 0;
  }

  /** Binary: [P(positive)]; softmax: a probability per label, in `labels` order. */
  probabilities(vector: SparseVector): number[] {
    const logits = this.logits(vector);
    return this.classes === 1 ? [sigmoid(logits[0] ?? 0)] : softmax(logits);
  }
}

/** What BinaryModelStack.score gives: each model's logit, and the first model's coverage. */
export interface StackedScores {
  readonly logits: Float64Array;
  readonly coverage: number;
}

/**
 * Binary linear models over the same hashed features (the toxicity classifier and the
 * written-harm classifier read one vector), scored in one pass over the vector: their weights
 * for a feature sit side by side, so each feature costs one cache miss instead of one per model
 * (their dense rows are 1 MB each), and the first model's coverage is counted in the same pass.
 * Each logit is its LinearModel's logits()[0] bit for bit: the same float32 weights, summed in
 * float64 in the vector's order, then the bias added.
 */
export class BinaryModelStack {
  private readonly models: number;
  private readonly dimension: number;
  /** weights[index * models + m]: model m's weight of feature `index`. */
  private readonly weights: Float32Array;
  private readonly bias: Float64Array;

  constructor(models: readonly LinearModel[]) {
    const dimension = models[0]?.features.dimension ?? 0;
    if (models.some((m) => m.classCount !== 1 || m.features.dimension !== dimension))
      throw new Error("BinaryModelStack: binary models of one feature dimension only");
    this.models = models.length;
    this.dimension = dimension;
    this.weights = new Float32Array(dimension * models.length);
    models.forEach((model, m) => {
      for (let index = 0; index < dimension; index++)
        this.weights[index * models.length + m] = model.weight(index, 0);
    });
    this.bias = Float64Array.from(models, (model) => model.biasOf(0));
  }

  score(vector: SparseVector): StackedScores {
    const { models, weights, dimension } = this;
    if (models === 2) return this.score2(vector);
    const sums = new Float64Array(models);
    const { indices, values } = vector;
    let known = 0;
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i] ?? 0;
      if (index < 0 || index >= dimension) continue;
      const offset = index * models;
      const value = values[i] ?? 0;
      // LinearModel.coverage: a feature is known when the first model has a weight for it.
      if ((weights[offset] ?? 0) !== 0) known++;
      for (let m = 0; m < models; m++)
        sums[m] = (sums[m] ?? 0) + (weights[offset + m] ?? 0) * value;
    }
    for (let m = 0; m < models; m++) sums[m] = (sums[m] ?? 0) + (this.bias[m] ?? 0);
    const coverage = models === 0 || indices.length === 0 ? 0 : known / indices.length;
    return { logits: sums, coverage };
  }

  /**
   * score() for the toxicity scorer's two models, with the sums in locals: the same additions
   * in the same order, without a store and a reload of each sum per feature.
   */
  private score2(vector: SparseVector): StackedScores {
    const { weights, dimension } = this;
    const { indices, values } = vector;
    let known = 0;
    let sum0 = 0;
    let sum1 = 0;
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i] ?? 0;
      if (index < 0 || index >= dimension) continue;
      const w0 = weights[2 * index] ?? 0;
      const w1 = weights[2 * index + 1] ?? 0;
      const value = values[i] ?? 0;
      if (w0 !== 0) known++;
      sum0 += w0 * value;
      sum1 += w1 * value;
    }
    const logits = Float64Array.of(sum0 + (this.bias[0] ?? 0), sum1 + (this.bias[1] ?? 0));
    return { logits, coverage: indices.length === 0 ? 0 : known / indices.length };
  }
}
