/**
 * The fast embedder's lexical part: an idf-weighted bag of words, projected to a few dimensions
 * by a sparse random projection (each word adds ±idf to `hashes` positions chosen by its hash).
 * Its cosine approximates the tf-idf cosine of two texts: which words they share, weighted by how
 * rare the words are. The distilled table blurs exactly that (it places "guitar" near "flute"),
 * and on STS-B validation the mix of both ranks pairs better than either (src/nlp/README.md).
 * Nothing is stored per word but its idf: positions and signs come from the word's hash.
 *
 * Since v4 (`stem`), the hash and the idf are those of the word's Porter stem, so inflections
 * of one word count as shared ("flute" / "flutes", "plays" / "playing"): STS-B pairs often say
 * the same thing in another form of the same word, which the plain bag of words missed.
 */
import { stemmer } from "stemmer";

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
  /** Words are read as their Porter stems (v4); absent in v2/v3 files: words as they are. */
  readonly stem?: boolean;
}

/** What the lexical part counts a word as: the word, or its stem when the config says so. */
export function lexicalKey(word: string, config: Pick<FastLexicalConfig, "stem">): string {
  return config.stem ? stemmer(word) : word;
}

/** The key hash of each vocabulary word, by row: computed once, not stemmed again per text. */
export function lexicalHashes(
  vocab: ReadonlyMap<string, number>,
  config: Pick<FastLexicalConfig, "stem">,
): Uint32Array {
  const hashes = new Uint32Array(vocab.size);
  for (const [word, row] of vocab) hashes[row] = fnv1a(lexicalKey(word, config));
  return hashes;
}

/**
 * Writes the lexical vector of `tokens` into `out` (zeroed first); returns its norm. `hashes`
 * (lexicalHashes) saves keying vocabulary words again; words outside it are keyed here.
 */
export function lexicalVector(
  tokens: readonly string[],
  vocab: ReadonlyMap<string, number>,
  config: FastLexicalConfig,
  out: Float32Array,
  hashes?: Uint32Array,
): number {
  out.fill(0);
  for (const word of tokens) {
    const row = vocab.get(word);
    const weight = row === undefined ? config.unknownIdf : config.idf[row]!;
    let h = row !== undefined && hashes ? hashes[row]! : fnv1a(lexicalKey(word, config));
    for (let k = 0; k < config.hashes; k++) {
      h = (Math.imul(h, 1103515245) + 12345) >>> 0;
      out[(h >>> 8) % config.dimension]! += (h >>> 4) & 1 ? weight : -weight;
    }
  }
  let square = 0;
  for (let j = 0; j < out.length; j++) square += out[j]! * out[j]!;
  return Math.sqrt(square);
}

/**
 * ln((N + 1) / (df + 1)) per vocabulary word over `texts` (document frequency, not counts). With
 * `stem`, df is that of the word's stem: the texts holding any form of it.
 */
export function inverseDocumentFrequencies(
  texts: readonly (readonly string[])[],
  vocab: ReadonlyMap<string, number>,
  stem = false,
): { idf: number[]; unknownIdf: number } {
  const key = (word: string) => lexicalKey(word, { stem });
  const dfByKey = new Map<string, number>();
  for (const tokens of texts) {
    for (const k of new Set(tokens.map(key))) dfByKey.set(k, (dfByKey.get(k) ?? 0) + 1);
  }
  const df = new Array<number>(vocab.size).fill(0);
  for (const [word, row] of vocab) df[row] = dfByKey.get(key(word)) ?? 0;
  const n = texts.length;
  // Four decimals: the header stays small and the file is the same on every platform.
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    idf: df.map((d) => round(Math.log((n + 1) / (d + 1)))),
    unknownIdf: round(Math.log(n + 1)),
  };
}
