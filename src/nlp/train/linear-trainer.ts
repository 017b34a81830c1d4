import { seededRandom } from "../../domain/seeded-random.js";
import { rocAuc } from "../calibration-metrics.js";
import { sigmoid, softmax, type SparseVector } from "../features.js";

/** One training example: its feature vector, class index and sample weight. */
export interface Example {
  readonly x: SparseVector;
  readonly y: number;
  readonly weight: number;
}

export interface TrainOptions {
  readonly dimension: number;
  /** 1 for a binary logistic model (y ∈ {0,1}), K for softmax over K classes. */
  readonly classes: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly l2: number;
  readonly seed: number;
}

export interface TrainedWeights {
  readonly rows: Float32Array[];
  readonly bias: number[];
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/**
 * Trains a logistic (classes = 1) or softmax regression with AdaGrad and L2 decay. AdaGrad suits
 * hashed n-grams: rare features keep a large step, frequent ones settle.
 */
export function trainLinear(examples: readonly Example[], options: TrainOptions): TrainedWeights {
  const k = options.classes;
  const rows = Array.from({ length: k }, () => new Float32Array(options.dimension));
  const grads = Array.from({ length: k }, () => new Float32Array(options.dimension).fill(1e-8));
  const bias = new Array<number>(k).fill(0);
  const biasGrad = new Array<number>(k).fill(1e-8);
  const random = seededRandom(options.seed);
  const order = examples.map((_, i) => i);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    shuffle(order, random);
    for (const i of order) {
      const ex = examples[i] as Example;
      const logits = rows.map((row, c) => {
        let s = bias[c] ?? 0;
        for (let j = 0; j < ex.x.indices.length; j++)
          s += (row[ex.x.indices[j] ?? 0] ?? 0) * (ex.x.values[j] ?? 0);
        return s;
      });
      const probs = k === 1 ? [sigmoid(logits[0] ?? 0)] : softmax(logits);
      for (let c = 0; c < k; c++) {
        const target = k === 1 ? ex.y : ex.y === c ? 1 : 0;
        const err = ((probs[c] ?? 0) - target) * ex.weight;
        const row = rows[c] as Float32Array;
        const g2 = grads[c] as Float32Array;
        for (let j = 0; j < ex.x.indices.length; j++) {
          const idx = ex.x.indices[j] ?? 0;
          const w = row[idx] ?? 0;
          const g = err * (ex.x.values[j] ?? 0) + options.l2 * w;
          g2[idx] = (g2[idx] ?? 0) + g * g;
          row[idx] = w - (options.learningRate * g) / Math.sqrt(g2[idx] ?? 1);
        }
        biasGrad[c] = (biasGrad[c] ?? 0) + err * err;
        bias[c] = (bias[c] ?? 0) - (options.learningRate * err) / Math.sqrt(biasGrad[c] ?? 1);
      }
    }
  }
  return { rows, bias };
}

/** Keeps weights with |w| >= minAbs, rounded, as flat [index, weight, ...] pairs for JSON. */
/**
 * The `keep` largest weights (at least 1e-4 in magnitude), rounded to 4 decimals as the JSON
 * files store them; the rest 0. A model file stays small, and a model scored in training has
 * the form the shipped file will have.
 */
export function keepLargest(row: Float32Array, keep: number): Float32Array {
  const magnitudes = Array.from(row, Math.abs).sort((a, b) => b - a);
  const cutoff = Math.max(1e-4, magnitudes[Math.min(keep, magnitudes.length) - 1] ?? 0);
  return row.map((w) => (Math.abs(w) >= cutoff ? Math.round(w * 1e4) / 1e4 : 0));
}

export function sparsify(row: Float32Array, minAbs: number, decimals = 4): number[] {
  const out: number[] = [];
  const scale = 10 ** decimals;
  for (let i = 0; i < row.length; i++) {
    const w = row[i] ?? 0;
    if (Math.abs(w) >= minAbs) out.push(i, Math.round(w * scale) / scale);
  }
  return out;
}

export { rocAuc } from "../calibration-metrics.js";

export interface BinaryMetrics {
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
  auc: number;
}

export function binaryMetrics(
  scores: readonly number[],
  labels: readonly number[],
  threshold = 0.5,
): BinaryMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  scores.forEach((s, i) => {
    const predicted = s >= threshold;
    const actual = labels[i] === 1;
    if (predicted && actual) tp++;
    else if (predicted) fp++;
    else if (actual) fn++;
    else tn++;
  });
  const precision = tp / Math.max(1, tp + fp);
  const recall = tp / Math.max(1, tp + fn);
  return {
    precision,
    recall,
    f1: (2 * precision * recall) / Math.max(1e-12, precision + recall),
    accuracy: (tp + tn) / Math.max(1, scores.length),
    auc: rocAuc(scores, labels),
  };
}
