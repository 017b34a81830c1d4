import { readFileSync } from "node:fs";

import type { SparseVector } from "./features.js";
import { type HashedMlpHeader, LEAKY_SLOPE } from "./hashed-mlp.js";

let scaleScratch = new Float64Array(4096);
/** A reused buffer of at least `size` scales (one thread scores at a time). */
function scaleBuffer(size: number): Float64Array {
  if (scaleScratch.length < size)
    scaleScratch = new Float64Array(Math.max(size, 2 * scaleScratch.length));
  return scaleScratch;
}

/**
 * HashedMlp for inference, kept in the file's own int8 form: each bucket's row of `hidden`
 * int8 weights sits next to its float32 scale (12 bytes a bucket at hidden 8), where the
 * decoded float32 table took 32 bytes a bucket plus nothing else. The toxicity network's
 * 65,536 buckets take 0.75 MB instead of 2 MB, so the rows a text touches are found in cache
 * more often; each item reads ~1,000 buckets at random.
 *
 * The logit is bit for bit HashedMlp's: a weight is Math.fround(int8 · scale), which is what
 * decodeHashedMlp stores into its Float32Array (the product is exact in float64), and the hidden
 * sums are accumulated in a Float32Array in the same order.
 */
export class Int8HashedMlp {
  private readonly hidden: number;
  private readonly mask: number;
  /** Bytes per bucket: the float32 scale, then the int8 row padded to a multiple of 4. */
  private readonly stride: number;
  private readonly rows: Int8Array;
  private readonly scales: Float32Array;
  private readonly hiddenBias: Float32Array;
  private readonly output: Float32Array;
  private readonly outputBias: number;
  private readonly h: Float32Array;

  private constructor(buffer: Buffer, header: HashedMlpHeader) {
    const { buckets, hidden } = header;
    const expected = buckets * hidden + buckets * 4 + hidden * 8 + 4;
    if (buffer.length !== expected)
      throw new Error(`${header.file}: ${buffer.length} bytes, expected ${expected}`);
    this.hidden = hidden;
    this.mask = buckets - 1;
    this.stride = 4 + Math.ceil(hidden / 4) * 4;
    const table = new ArrayBuffer(buckets * this.stride);
    this.rows = new Int8Array(table);
    this.scales = new Float32Array(table);
    const scaleOffset = buckets * hidden;
    for (let b = 0; b < buckets; b++) {
      this.scales[(b * this.stride) / 4] = buffer.readFloatLE(scaleOffset + b * 4);
      for (let j = 0; j < hidden; j++)
        this.rows[b * this.stride + 4 + j] = buffer.readInt8(b * hidden + j);
    }
    let offset = scaleOffset + buckets * 4;
    const readFloats = (n: number): Float32Array => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++, offset += 4) out[i] = buffer.readFloatLE(offset);
      return out;
    };
    this.hiddenBias = readFloats(hidden);
    this.output = readFloats(hidden);
    this.outputBias = buffer.readFloatLE(offset);
    this.h = new Float32Array(hidden);
  }

  static load(url: URL, header: HashedMlpHeader): Int8HashedMlp {
    return new Int8HashedMlp(readFileSync(url), header);
  }

  /**
   * logit's loop for the shipped width (hidden 8), with the eight sums in locals: each is
   * rounded to float32 after every addition, as the store into `h` rounds it, so the sums are
   * the loop's bit for bit. Half the loop's time, which V8 neither unrolls nor keeps out of
   * memory (toxicity MLP on a news article: ~115 → ~62 µs).
   */
  private addRows8(vector: SparseVector): void {
    const { h, rows, scales, stride, mask } = this;
    const { indices, values } = vector;
    let h0 = h[0] ?? 0;
    let h1 = h[1] ?? 0;
    let h2 = h[2] ?? 0;
    let h3 = h[3] ?? 0;
    let h4 = h[4] ?? 0;
    let h5 = h[5] ?? 0;
    let h6 = h[6] ?? 0;
    let h7 = h[7] ?? 0;
    // Every feature's scale is read first, in a loop of independent loads that keeps many cache
    // misses in flight; the summing loop's long body let few overlap, and in the enricher the
    // table is mostly out of cache. Its rows are then mostly in cache (toxicity MLP inside the
    // enricher on a news article: ~0.57 → ~0.40 of language detection's time, ~220 → ~160 µs).
    const featureScales = scaleBuffer(indices.length);
    for (let k = 0; k < indices.length; k++)
      // base is a multiple of 4: a shift, not a division that V8 would do in floating point.
      featureScales[k] = scales[(((indices[k] ?? 0) & mask) * stride) >> 2] ?? 0;
    for (let k = 0; k < indices.length; k++) {
      const base = ((indices[k] ?? 0) & mask) * stride;
      const scale = featureScales[k] ?? 0;
      const value = values[k] ?? 0;
      const r = base + 4;
      h0 = Math.fround(h0 + Math.fround((rows[r] ?? 0) * scale) * value);
      h1 = Math.fround(h1 + Math.fround((rows[r + 1] ?? 0) * scale) * value);
      h2 = Math.fround(h2 + Math.fround((rows[r + 2] ?? 0) * scale) * value);
      h3 = Math.fround(h3 + Math.fround((rows[r + 3] ?? 0) * scale) * value);
      h4 = Math.fround(h4 + Math.fround((rows[r + 4] ?? 0) * scale) * value);
      h5 = Math.fround(h5 + Math.fround((rows[r + 5] ?? 0) * scale) * value);
      h6 = Math.fround(h6 + Math.fround((rows[r + 6] ?? 0) * scale) * value);
      h7 = Math.fround(h7 + Math.fround((rows[r + 7] ?? 0) * scale) * value);
    }
    h.set([h0, h1, h2, h3, h4, h5, h6, h7]);
  }

  /** The network's logit for a hashed feature vector (HashedMlp.logit's value). */
  logit(vector: SparseVector): number {
    const { hidden, h, rows, scales, stride } = this;
    h.set(this.hiddenBias);
    if (hidden === 8) this.addRows8(vector);
    else
      for (let k = 0; k < vector.indices.length; k++) {
        const base = ((vector.indices[k] ?? 0) & this.mask) * stride;
        const scale = scales[base / 4] ?? 0;
        const value = vector.values[k] ?? 0;
        for (let j = 0; j < hidden; j++)
          h[j] = (h[j] ?? 0) + Math.fround((rows[base + 4 + j] ?? 0) * scale) * value;
      }
    let z = this.outputBias;
    for (let j = 0; j < hidden; j++) {
      const pre = h[j] ?? 0;
      z += (this.output[j] ?? 0) * (pre > 0 ? pre : LEAKY_SLOPE * pre);
    }
    return z;
  }
}
