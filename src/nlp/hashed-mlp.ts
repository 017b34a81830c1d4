import { readFileSync } from "node:fs";

import type { SparseVector } from "./features.js";

/**
 * A one-hidden-layer network over hashed n-grams (fastText-style): each bucket has a small
 * embedding row, the text's rows are summed (weighted by the feature values), passed through a
 * leaky ReLU and read out by one linear unit. It sees interactions between n-grams that a linear
 * model cannot ("trash" next to "cake" vs next to a person), and is cheap: a 20-word tweet
 * touches ~300 buckets × `hidden` multiply-adds.
 *
 * It reads the same hashed vector as the linear toxicity model (2^18 buckets) and folds each
 * index into its own, smaller table by the low bits (index & (buckets − 1)), so no second
 * hashing pass is needed at inference.
 *
 * File format (little-endian): the embedding table as int8 with one float32 scale per bucket
 * (row = int8 · scale), then float32 hidden biases, float32 output weights and the output bias.
 * Sizes come from the JSON that names the file (`HashedMlpHeader`).
 */
export interface HashedMlpHeader {
  /** Number of embedding rows; a power of two. */
  readonly buckets: number;
  readonly hidden: number;
  /** File name, next to the JSON that holds this header. */
  readonly file: string;
}

export interface HashedMlpWeights {
  readonly buckets: number;
  readonly hidden: number;
  /** buckets × hidden, row-major. */
  readonly embeddings: Float32Array;
  readonly hiddenBias: Float32Array;
  readonly output: Float32Array;
  readonly outputBias: number;
}

export const LEAKY_SLOPE = 0.01;

export class HashedMlp {
  private readonly mask: number;
  private readonly h: Float32Array;

  constructor(private readonly w: HashedMlpWeights) {
    this.mask = w.buckets - 1;
    this.h = new Float32Array(w.hidden);
  }

  static load(url: URL, header: HashedMlpHeader): HashedMlp {
    return new HashedMlp(decodeHashedMlp(readFileSync(url), header));
  }

  /** The network's logit for a hashed feature vector. */
  logit(vector: SparseVector): number {
    return forwardHashedMlp(this.w, vector, this.mask, this.h);
  }
}

/**
 * Forward pass shared by training and inference. Fills `h` with the pre-activations (the
 * trainer reads them back for the gradient) and returns the logit.
 */
export function forwardHashedMlp(
  w: HashedMlpWeights,
  vector: SparseVector,
  mask: number,
  h: Float32Array,
): number {
  const H = w.hidden;
  h.set(w.hiddenBias);
  for (let k = 0; k < vector.indices.length; k++) {
    const offset = ((vector.indices[k] ?? 0) & mask) * H;
    const value = vector.values[k] ?? 0;
    for (let j = 0; j < H; j++) h[j] = (h[j] ?? 0) + (w.embeddings[offset + j] ?? 0) * value;
  }
  let z = w.outputBias;
  for (let j = 0; j < H; j++) {
    const pre = h[j] ?? 0;
    z += (w.output[j] ?? 0) * (pre > 0 ? pre : LEAKY_SLOPE * pre);
  }
  return z;
}

/** int8 rows with a float32 scale each: ~4× smaller than float32, and deterministic to write. */
export function encodeHashedMlp(w: HashedMlpWeights): Buffer {
  const { buckets, hidden } = w;
  const buffer = Buffer.alloc(buckets * hidden + buckets * 4 + hidden * 4 * 2 + 4);
  let offset = 0;
  const scales = new Float32Array(buckets);
  for (let b = 0; b < buckets; b++) {
    let max = 0;
    for (let j = 0; j < hidden; j++)
      max = Math.max(max, Math.abs(w.embeddings[b * hidden + j] ?? 0));
    scales[b] = max / 127;
  }
  for (let b = 0; b < buckets; b++) {
    const scale = scales[b] ?? 0;
    for (let j = 0; j < hidden; j++) {
      const q = scale > 0 ? Math.round((w.embeddings[b * hidden + j] ?? 0) / scale) : 0;
      buffer.writeInt8(Math.max(-127, Math.min(127, q)), offset++);
    }
  }
  for (const s of scales) offset = buffer.writeFloatLE(s, offset);
  for (const v of w.hiddenBias) offset = buffer.writeFloatLE(v, offset);
  for (const v of w.output) offset = buffer.writeFloatLE(v, offset);
  buffer.writeFloatLE(w.outputBias, offset);
  return buffer;
}

export function decodeHashedMlp(buffer: Buffer, header: HashedMlpHeader): HashedMlpWeights {
  const { buckets, hidden } = header;
  const expected = buckets * hidden + buckets * 4 + hidden * 8 + 4;
  if (buffer.length !== expected)
    throw new Error(`${header.file}: ${buffer.length} bytes, expected ${expected}`);
  const embeddings = new Float32Array(buckets * hidden);
  let offset = buckets * hidden;
  for (let b = 0; b < buckets; b++) {
    const scale = buffer.readFloatLE(offset + b * 4);
    for (let j = 0; j < hidden; j++)
      embeddings[b * hidden + j] = buffer.readInt8(b * hidden + j) * scale;
  }
  offset += buckets * 4;
  const readFloats = (n: number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++, offset += 4) out[i] = buffer.readFloatLE(offset);
    return out;
  };
  const hiddenBias = readFloats(hidden);
  const output = readFloats(hidden);
  return {
    buckets,
    hidden,
    embeddings,
    hiddenBias,
    output,
    outputBias: buffer.readFloatLE(offset),
  };
}
