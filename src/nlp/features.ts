/**
 * Hashed n-gram features for the small linear models (toxicity, topics). Hashing keeps the
 * shipped weights a flat sparse list with no vocabulary file, and the same function runs in the
 * training scripts and at inference, so they cannot drift apart.
 */

/** A sparse feature vector: parallel arrays of hashed indices and values, L2-normalised. */
export interface SparseVector {
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

export interface FeatureOptions {
  /** Number of hash buckets; a power of two. */
  readonly dimension: number;
  readonly wordNgrams: readonly number[];
  /** Character n-gram sizes taken inside each padded word ("<word>"); empty for none. */
  readonly charNgrams: readonly number[];
  /** Extra named features (e.g. lexicon hits) added with the given values. */
  readonly extra?: Readonly<Record<string, number>>;
}

/** 32-bit FNV-1a; stable across runs and platforms, which the shipped weights rely on. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const LEET: Readonly<Record<string, string>> = { "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", $: "s", "!": "i" };

/**
 * Lower-cases and splits text into word tokens for the classifiers. Digits and symbols inside a
 * word are read as the letters they imitate ("b1tch", "a$$") and runs of one letter are squeezed
 * to two ("fuuuuck" → "fuuck"), so disguised spellings share features with the plain ones.
 * URLs and @mentions become placeholders: they say something about the medium, not the content.
 */
export function featureTokens(text: string): string[] {
  const cleaned = text
    .toLowerCase()
    .replace(/https?:\/\/\S+|www\.\S+/g, " _url_ ")
    .replace(/@\w+/g, " _user_ ")
    .replace(/#(\w+)/g, " $1 ")
    .replace(/&amp;/g, "&");
  const out: string[] = [];
  for (const raw of cleaned.split(/[^\p{L}\p{N}_'$@!*]+/u)) {
    if (raw === "") continue;
    // Edge punctuation is emphasis ("great!"), not a disguised letter.
    let word = raw.replace(/^[!'*]+|[!'*]+$/g, "");
    if (/\p{L}/u.test(word)) word = word.replace(/[013457@$!]/g, (c) => LEET[c] ?? c);
    word = word.replace(/[*'!]+/g, "").replace(/(\p{L})\1{2,}/gu, "$1$1");
    if (word !== "") out.push(word);
  }
  return out;
}

/** Builds the L2-normalised hashed feature vector of `text`. */
export function hashFeatures(text: string, options: FeatureOptions): SparseVector {
  const tokens = featureTokens(text);
  const mask = options.dimension - 1;
  const counts = new Map<number, number>();
  const add = (key: string, value = 1): void => {
    const h = fnv1a(key);
    // The top bit picks a sign so colliding features tend to cancel rather than pile up.
    const signed = h & 0x80000000 ? -value : value;
    const index = h & mask;
    counts.set(index, (counts.get(index) ?? 0) + signed);
  };
  for (const n of options.wordNgrams) {
    for (let i = 0; i + n <= tokens.length; i++) add(`w${n}:${tokens.slice(i, i + n).join(" ")}`);
  }
  if (options.charNgrams.length > 0) {
    for (const token of tokens) {
      const padded = `<${token}>`;
      for (const n of options.charNgrams) {
        for (let i = 0; i + n <= padded.length; i++) add(`c${n}:${padded.slice(i, i + n)}`, 0.5);
      }
    }
  }
  if (options.extra) {
    for (const [name, value] of Object.entries(options.extra)) if (value !== 0) add(`x:${name}`, value);
  }
  const indices = new Int32Array(counts.size);
  const values = new Float32Array(counts.size);
  let norm = 0;
  let k = 0;
  // Sorted indices make the vector (and so every score) independent of Map insertion order.
  for (const index of [...counts.keys()].sort((a, b) => a - b)) {
    const value = counts.get(index) ?? 0;
    indices[k] = index;
    values[k] = value;
    norm += value * value;
    k++;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < values.length; i++) values[i] = (values[i] ?? 0) / norm;
  return { indices, values };
}

/** Dot product of a sparse vector with a dense weight row starting at `offset`. */
export function sparseDot(vector: SparseVector, weights: ArrayLike<number>, offset = 0): number {
  let sum = 0;
  for (let i = 0; i < vector.indices.length; i++) {
    sum += (weights[offset + (vector.indices[i] ?? 0)] ?? 0) * (vector.values[i] ?? 0);
  }
  return sum;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}
