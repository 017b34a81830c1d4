import { readFileSync } from "node:fs";

import { type FeatureOptions, type SparseVector, sigmoid, softmax, sparseDot } from "./features.js";

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

/** A loaded linear model: dense rows for fast dot products with sparse inputs. */
export class LinearModel {
  readonly name: string;
  readonly labels: readonly string[];
  readonly features: Omit<FeatureOptions, "extra">;
  private readonly rows: Float32Array[];
  private readonly bias: readonly number[];

  constructor(file: LinearModelFile) {
    this.name = `${file.name}-v${file.version}`;
    this.labels = file.labels;
    this.features = file.features;
    this.bias = file.bias;
    this.rows = file.weights.map((pairs) => {
      const row = new Float32Array(file.features.dimension);
      for (let i = 0; i + 1 < pairs.length; i += 2) row[pairs[i] ?? 0] = pairs[i + 1] ?? 0;
      return row;
    });
  }

  static load(url: URL): LinearModel {
    return new LinearModel(JSON.parse(readFileSync(url, "utf8")) as LinearModelFile);
  }

  /** Raw scores, one per class (one for a binary model). */
  logits(vector: SparseVector): number[] {
    return this.rows.map((row, k) => sparseDot(vector, row) + (this.bias[k] ?? 0));
  }

  /** Share of the vector's features that have a weight in the first row (after pruning). */
  coverage(vector: SparseVector): number {
    const row = this.rows[0];
    if (!row || vector.indices.length === 0) return 0;
    let known = 0;
    for (let i = 0; i < vector.indices.length; i++) if ((row[vector.indices[i] ?? 0] ?? 0) !== 0) known++;
    return known / vector.indices.length;
  }

  /** Binary: [P(positive)]; softmax: a probability per label, in `labels` order. */
  probabilities(vector: SparseVector): number[] {
    const logits = this.logits(vector);
    return this.rows.length === 1 ? [sigmoid(logits[0] ?? 0)] : softmax(logits);
  }
}
