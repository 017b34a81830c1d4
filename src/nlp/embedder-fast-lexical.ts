/**
 * The fast embedder's lexical part: an idf-weighted bag of words, projected to a few dimensions
 * by a sparse random projection (each word adds ±idf to `hashes` positions chosen by its hash).
 * Its cosine approximates the tf-idf cosine of two texts: which words they share, weighted by how
 * rare the words are. The distilled table blurs exactly that (it places "guitar" near "flute"),
 * and on STS-B validation the mix of both ranks pairs better than either (src/nlp/README.md).
 * Nothing is stored per word but its idf: positions and signs come from the word's hash.
 */
import { fnv1a } from "./features.js";

export interface FastLexicalConfig {
  readonly dimension: number;
  /** Positions each word writes to (sparse Johnson–Lindenstrauss). */
  readonly hashes: number;
  /** Share of the squared norm the lexical part gets in the final vector (the dense part, the rest). */
  readonly share: number;
  /** idf per vocabulary word, in vocabulary order. */
  readonly idf: readonly number[];
  /** idf of a word outside the vocabulary (rarer than every vocabulary word). */
  readonly unknownIdf: number;
}

/** Writes the lexical vector of `tokens` into `out` (zeroed first); returns its norm. */
export function lexicalVector(
  tokens: readonly string[],
  vocab: ReadonlyMap<string, number>,
  config: FastLexicalConfig,
  out: Float32Array,
): number {
  out.fill(0);
  for (const word of tokens) {
    const row = vocab.get(word);
    const weight = row === undefined ? config.unknownIdf : config.idf[row]!;
    let h = fnv1a(word);
    for (let k = 0; k < config.hashes; k++) {
      h = (Math.imul(h, 1103515245) + 12345) >>> 0;
      out[(h >>> 8) % config.dimension]! += (h >>> 4) & 1 ? weight : -weight;
    }
  }
  let square = 0;
  for (let j = 0; j < out.length; j++) square += out[j]! * out[j]!;
  return Math.sqrt(square);
}

/** ln((N + 1) / (df + 1)) per vocabulary word over `texts` (document frequency, not counts). */
export function inverseDocumentFrequencies(
  texts: readonly (readonly string[])[],
  vocab: ReadonlyMap<string, number>,
): { idf: number[]; unknownIdf: number } {
  const df = new Array<number>(vocab.size).fill(0);
  for (const tokens of texts) {
    for (const word of new Set(tokens)) {
      const row = vocab.get(word);
      if (row !== undefined) df[row]!++;
    }
  }
  const n = texts.length;
  // Four decimals: the header stays small and the file is the same on every platform.
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    idf: df.map((d) => round(Math.log((n + 1) / (d + 1)))),
    unknownIdf: round(Math.log(n + 1)),
  };
}
