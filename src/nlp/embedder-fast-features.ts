/**
 * What the fast embedder reads of a text: word tokens, looked up in a vocabulary, plus hashed
 * character n-grams and word bigrams. One function serves the training script and inference, so
 * the two cannot drift apart.
 */
import { stemmer } from "stemmer";

import { fnv1a } from "./features.js";

export interface FastFeatureConfig {
  /** Hash buckets after the vocabulary rows, shared by unknown words, n-grams and bigrams. */
  readonly buckets: number;
  /** Character n-gram sizes taken inside "<word>"; they place unseen and misspelt words. */
  readonly charNgrams: readonly number[];
  /** Whether vocabulary words get character n-grams too (unknown words always do). */
  readonly charNgramsForKnownWords: boolean;
  readonly wordBigrams: boolean;
  /** Tokens read per text; a news item's meaning is in its first paragraphs. */
  readonly maxTokens: number;
  /**
   * An unknown word whose Porter stem is a vocabulary word's stem takes that word's row ("flutes"
   * → "flute"), where it would get only character n-grams (v4; absent before: no back-off).
   */
  readonly stemBackoff?: boolean;
}

/** Lower-cased letter/digit runs; NFKC folds full-width and ligature forms first. */
export function fastTokens(text: string): string[] {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t !== "");
}

/**
 * Row indices of the embedding table for a text (with repeats: a word said twice counts twice).
 * Rows [0, vocab.size) are vocabulary words, the next `buckets` rows are hashed.
 */
export function fastFeatureIds(
  text: string,
  vocab: ReadonlyMap<string, number>,
  config: FastFeatureConfig,
): number[] {
  return fastFeatureIdsOfTokens(fastReadTokens(text, config), vocab, config);
}

/** The tokens of a text the model reads (the first `maxTokens`). */
export function fastReadTokens(text: string, config: FastFeatureConfig): string[] {
  return fastTokens(text).slice(0, config.maxTokens);
}

/** fastFeatureIds for tokens already read (fastReadTokens), so the lexical part shares them. */
export function fastFeatureIdsOfTokens(
  tokens: readonly string[],
  vocab: ReadonlyMap<string, number>,
  config: FastFeatureConfig,
): number[] {
  const base = vocab.size;
  const bucket = (key: string) => base + (fnv1a(key) % config.buckets);
  const ids: number[] = [];
  const stems = config.stemBackoff ? stemRows(vocab) : undefined;
  tokens.forEach((word, i) => {
    const known = vocab.get(word) ?? stems?.get(stemmer(word));
    ids.push(known ?? bucket(`w ${word}`));
    if (known === undefined || config.charNgramsForKnownWords) {
      const padded = `<${word}>`;
      for (const n of config.charNgrams) {
        for (let j = 0; j + n <= padded.length; j++) ids.push(bucket(padded.slice(j, j + n)));
      }
    }
    if (config.wordBigrams && i > 0) ids.push(bucket(`b ${tokens[i - 1]} ${word}`));
  });
  return ids;
}

const stemRowsByVocab = new WeakMap<ReadonlyMap<string, number>, Map<string, number>>();

/**
 * The row of each vocabulary stem: its first word in vocabulary order (the most frequent form,
 * the vocabulary being sorted by frequency). Built once per vocabulary.
 */
function stemRows(vocab: ReadonlyMap<string, number>): ReadonlyMap<string, number> {
  let rows = stemRowsByVocab.get(vocab);
  if (!rows) {
    rows = new Map();
    for (const [word, row] of [...vocab].sort((a, b) => a[1] - b[1])) {
      const stem = stemmer(word);
      if (!rows.has(stem)) rows.set(stem, row);
    }
    stemRowsByVocab.set(vocab, rows);
  }
  return rows;
}
