/**
 * The fast offline embedder: a static model distilled from USE-lite (src/nlp/train/
 * train-fast-embedder.ts) and tuned on the training splits (tune-fast-embedder.ts). A text's
 * vector is the L2-normalised sum of table rows for its words, hashed character n-grams and word
 * bigrams, followed (since v2) by an idf-weighted lexical part (embedder-fast-lexical.ts), the two
 * parts weighted so their cosines mix — no network, no WASM, a few hundred microseconds per news
 * item on one core, so it runs on the calling thread.
 */
import { readFileSync } from "node:fs";

import type { Embedder } from "./embedder.js";
import { EmbedderError } from "./embedder-error.js";
import { fastFeatureIdsOfTokens, fastReadTokens } from "./embedder-fast-features.js";
import { lexicalHashes, lexicalVector } from "./embedder-fast-lexical.js";
import { decodeFastModel } from "./embedder-fast-model.js";

/** Recorded with every vector; a new weights file gets a new name, so a change re-embeds. */
export const FAST_EMBEDDER_MODEL = "trendgate-fast-v4";
export const FAST_MODEL_URL = new URL("./models/fast-embedder-v4.bin", import.meta.url);

/** Adds the rows `ids` of a row-major table into `out` (zeroed first); returns |out|. */
export function sumPool(
  table: Float32Array,
  dimension: number,
  ids: Int32Array,
  out: Float32Array,
): number {
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

export function createFastEmbedder(
  options: { modelFile?: URL | string; bytes?: Uint8Array } = {},
): Embedder {
  const model = decodeFastModel(options.bytes ?? readFileSync(options.modelFile ?? FAST_MODEL_URL));
  const { features, lexical } = model.header;
  const denseDimension = model.header.dimension;
  const dimension = denseDimension + (lexical?.dimension ?? 0);
  const vocab = new Map(model.header.vocab.map((w, i) => [w, i]));
  const directions = (model.header.commonDirections ?? []).map((c) => Float32Array.from(c));
  const dense = new Float32Array(denseDimension);
  const lexicalScratch = new Float32Array(lexical?.dimension ?? 0);
  const lexicalKeys = lexical ? lexicalHashes(vocab, lexical) : undefined;
  // Each part is normalised, then scaled so its squared norm is its share: the cosine of two
  // vectors is then (1 − share)·cos(dense) + share·cos(lexical).
  const lexicalScale = Math.sqrt(lexical?.share ?? 0);
  const denseScale = Math.sqrt(1 - (lexical?.share ?? 0));
  let closed = false;

  const embedOne = (text: string): number[] => {
    const tokens = fastReadTokens(text, features);
    sumPool(
      model.table,
      denseDimension,
      Int32Array.from(fastFeatureIdsOfTokens(tokens, vocab, features)),
      dense,
    );
    const denseNorm = removeDirections(dense, directions);
    const lexicalNorm = lexical
      ? lexicalVector(tokens, vocab, lexical, lexicalScratch, lexicalKeys)
      : 0;
    if (denseNorm > 0) {
      const out = new Array<number>(dimension);
      // A part that came out zero leaves the whole norm to the other.
      const d = lexicalNorm > 0 ? denseScale / denseNorm : 1 / denseNorm;
      for (let j = 0; j < denseDimension; j++) out[j] = dense[j]! * d;
      const l = lexicalNorm > 0 ? lexicalScale / lexicalNorm : 0;
      for (let j = 0; j < lexicalScratch.length; j++)
        out[denseDimension + j] = lexicalScratch[j]! * l;
      return out;
    }
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
      if (closed)
        return Promise.reject(
          new EmbedderError("EMBEDDER_CLOSED", "embedder is closed", { retryable: false }),
        );
      return Promise.resolve(texts.map(embedOne));
    },
    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
  };
}
