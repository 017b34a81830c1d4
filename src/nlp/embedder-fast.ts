/**
 * The fast offline embedder: a static model distilled from USE-lite (src/nlp/train/
 * train-fast-embedder.ts). A text's vector is the L2-normalised sum of table rows for its words,
 * hashed character n-grams and word bigrams — no network, no WASM, a few hundred microseconds
 * per news item on one core, so it runs on the calling thread.
 */
import { readFileSync } from "node:fs";

import type { Embedder } from "./embedder.js";
import { EmbedderError } from "./embedder-error.js";
import { fastFeatureIds } from "./embedder-fast-features.js";
import { decodeFastModel } from "./embedder-fast-model.js";

/** Recorded with every vector; a new weights file gets a new name, so a change re-embeds. */
export const FAST_EMBEDDER_MODEL = "trendgate-fast-v1";
export const FAST_MODEL_URL = new URL("./models/fast-embedder-v1.bin", import.meta.url);

/** Adds the rows `ids` of a row-major table into `out` (zeroed first); returns |out|. */
export function sumPool(table: Float32Array, dimension: number, ids: Int32Array, out: Float32Array): number {
  out.fill(0);
  for (const id of ids) {
    const at = id * dimension;
    for (let j = 0; j < dimension; j++) out[j]! += table[at + j]!;
  }
  let square = 0;
  for (let j = 0; j < dimension; j++) square += out[j]! * out[j]!;
  return Math.sqrt(square);
}

/**
 * Removes from `out` its components along unit `directions` (the directions every sentence vector
 * shares, as in SIF: they carry frequency, not meaning) and returns the new norm.
 */
export function removeDirections(out: Float32Array, directions: readonly Float32Array[]): number {
  for (const c of directions) {
    let along = 0;
    for (let j = 0; j < out.length; j++) along += out[j]! * c[j]!;
    for (let j = 0; j < out.length; j++) out[j]! -= along * c[j]!;
  }
  let square = 0;
  for (let j = 0; j < out.length; j++) square += out[j]! * out[j]!;
  return Math.sqrt(square);
}

export function createFastEmbedder(options: { modelFile?: URL | string } = {}): Embedder {
  const model = decodeFastModel(readFileSync(options.modelFile ?? FAST_MODEL_URL));
  const { dimension, features } = model.header;
  const vocab = new Map(model.header.vocab.map((w, i) => [w, i]));
  const directions = (model.header.commonDirections ?? []).map((c) => Float32Array.from(c));
  const scratch = new Float32Array(dimension);
  let closed = false;

  const embedOne = (text: string): number[] => {
    sumPool(model.table, dimension, Int32Array.from(fastFeatureIds(text, vocab, features)), scratch);
    const norm = removeDirections(scratch, directions);
    if (norm > 0) return Array.from(scratch, (v) => v / norm);
    // A text without a letter or digit ("?!", emoji only) has no features. The zero vector has no
    // direction: cosine search cannot place it and a vector store refuses it, so such an item
    // failed its embedding (the chaos campaign found two "?!" posts FAILED). They all get one
    // fixed unit vector instead: alike each other, unrelated to worded text.
    return Array.from({ length: dimension }, (_, j) => (j === 0 ? 1 : 0));
  };

  return {
    model: model.header.model,
    dimension,
    embed(texts: string[]): Promise<number[][]> {
      if (closed) return Promise.reject(new EmbedderError("EMBEDDER_CLOSED", "embedder is closed", { retryable: false }));
      return Promise.resolve(texts.map(embedOne));
    },
    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
  };
}
