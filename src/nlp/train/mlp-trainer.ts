import { seededRandom } from "../../domain/seeded-random.js";
import { sigmoid } from "../features.js";
import { forwardHashedMlp, type HashedMlpWeights, LEAKY_SLOPE } from "../hashed-mlp.js";
import { type Example, shuffle } from "./linear-trainer.js";

export interface MlpTrainOptions {
  readonly buckets: number;
  readonly hidden: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly l2: number;
  readonly seed: number;
}

/**
 * Trains a {@link HashedMlp} for binary (soft) targets by AdaGrad on the weighted log loss, one
 * seeded shuffle per epoch: deterministic for a given seed and example order.
 */
export function trainHashedMlp(
  examples: readonly Example[],
  options: MlpTrainOptions,
): HashedMlpWeights {
  const { buckets, hidden: H, learningRate: lr, l2 } = options;
  const mask = buckets - 1;
  const random = seededRandom(options.seed);
  const w = {
    buckets,
    hidden: H,
    embeddings: new Float32Array(buckets * H).map(() => (random() - 0.5) * 0.2),
    hiddenBias: new Float32Array(H),
    output: new Float32Array(H).map(() => (random() - 0.5) * 0.2),
    outputBias: 0,
  };
  const gEmb = new Float32Array(buckets * H).fill(1e-8);
  const gHb = new Float32Array(H).fill(1e-8);
  const gOut = new Float32Array(H).fill(1e-8);
  let gOb = 1e-8;
  const h = new Float32Array(H);
  const dh = new Float32Array(H);
  const order = examples.map((_, i) => i);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    shuffle(order, random);
    for (const i of order) {
      const { x, y, weight } = examples[i] as Example;
      const err = (sigmoid(forwardHashedMlp(w, x, mask, h)) - y) * weight;
      for (let j = 0; j < H; j++) {
        const pre = h[j] ?? 0;
        const active = pre > 0 ? pre : LEAKY_SLOPE * pre;
        dh[j] = err * (w.output[j] ?? 0) * (pre > 0 ? 1 : LEAKY_SLOPE);
        const g = err * active;
        gOut[j] = (gOut[j] ?? 0) + g * g;
        w.output[j] = (w.output[j] ?? 0) - (lr * g) / Math.sqrt(gOut[j] ?? 1);
        gHb[j] = (gHb[j] ?? 0) + (dh[j] ?? 0) ** 2;
        w.hiddenBias[j] = (w.hiddenBias[j] ?? 0) - (lr * (dh[j] ?? 0)) / Math.sqrt(gHb[j] ?? 1);
      }
      gOb += err * err;
      w.outputBias -= (lr * err) / Math.sqrt(gOb);
      for (let k = 0; k < x.indices.length; k++) {
        const offset = ((x.indices[k] ?? 0) & mask) * H;
        const value = x.values[k] ?? 0;
        for (let j = 0; j < H; j++) {
          const e = w.embeddings[offset + j] ?? 0;
          const g = (dh[j] ?? 0) * value + l2 * e;
          gEmb[offset + j] = (gEmb[offset + j] ?? 0) + g * g;
          w.embeddings[offset + j] = e - (lr * g) / Math.sqrt(gEmb[offset + j] ?? 1);
        }
      }
    }
  }
  return w;
}
