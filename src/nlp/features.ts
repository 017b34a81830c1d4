/**
 * Hashed n-gram features for the small linear models (toxicity, topics). Hashing keeps the
 * shipped weights a flat sparse list with no vocabulary file, and the same function runs in the
 * training scripts and at inference, so they cannot drift apart.
 */

import { sumFeatures } from "./feature-sums.js";

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

const LEET: Readonly<Record<string, string>> = {
  "0": "o",
  "1": "i",
  "3": "e",
  "4": "a",
  "5": "s",
  "7": "t",
  "@": "a",
  $: "s",
  "!": "i",
};

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
    const word = isPlainWord(raw) ? raw : featureWord(raw);
    if (word !== "") out.push(word);
  }
  return out;
}

/**
 * featureTokens(words.join(" ")) for lower-case words of letters, digits and "_" only (what
 * sentimentTokenList returns), without joining them and splitting them again: in such a string
 * no URL, mention, hashtag or entity rewrite applies and the split falls exactly on the spaces,
 * so each word only gets featureTokens' per-word rewrites.
 */
export function featureWords(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of words) {
    const word = isPlainWord(raw) ? raw : featureWord(raw);
    if (word !== "") out.push(word);
  }
  return out;
}

/**
 * True for a word of lower-case ASCII letters without a run of three equal letters: the
 * rewrites in featureWord leave such a word unchanged, and most words are like that, so the
 * tokeniser skips its four regexes for them (they dominated the enricher's profile).
 */
function isPlainWord(raw: string): boolean {
  let previous = -1;
  let run = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 97 || c > 122) return false;
    run = c === previous ? run + 1 : 1;
    if (run >= 3) return false;
    previous = c;
  }
  return true;
}

function featureWord(raw: string): string {
  // Edge punctuation is emphasis ("great!"), not a disguised letter.
  let word = raw.replace(/^[!'*]+|[!'*]+$/g, "");
  if (/\p{L}/u.test(word)) word = word.replace(/[013457@$!]/g, (c) => LEET[c] ?? c);
  return word.replace(/[*'!]+/g, "").replace(/(\p{L})\1{2,}/gu, "$1$1");
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SPACE = 32;
const LEFT_PAD = 60; // "<"
const RIGHT_PAD = 62; // ">"

/** Continues an FNV-1a hash over text[start, end): fnv1a(a + b) === feed(fnv1a(a), b, 0, b.length). */
function feed(hash: number, text: string, start: number, end: number): number {
  let h = hash;
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

/**
 * The FNV-1a hashes of a token list's feature keys ("w<n>:<words>", "c<n>:<chars>"), computed
 * once per n and shared by every model that reads the same tokens (toxicity and topics both
 * use word 1–2-grams and char 4-grams of featureTokens). Keys are hashed incrementally, never
 * built as strings. Hashes are kept as signed 32-bit ints (what Math.imul returns).
 */
export class NgramHashes {
  private readonly words = new Map<number, Int32Array>();
  private readonly chars = new Map<number, Int32Array>();

  constructor(readonly tokens: readonly string[]) {}

  /** Hashes of "w<n>:" + n consecutive tokens joined by a space, in text order. */
  wordNgrams(n: number): Int32Array {
    let hashes = this.words.get(n);
    if (hashes) return hashes;
    const tokens = this.tokens;
    const key = `w${n}:`;
    const prefix = feed(FNV_OFFSET, key, 0, key.length);
    hashes = new Int32Array(Math.max(0, tokens.length - n + 1));
    for (let i = 0; i < hashes.length; i++) {
      let h = prefix;
      for (let j = 0; j < n; j++) {
        if (j > 0) h = Math.imul(h ^ SPACE, FNV_PRIME);
        const token = tokens[i + j] ?? "";
        h = feed(h, token, 0, token.length);
      }
      hashes[i] = h;
    }
    this.words.set(n, hashes);
    return hashes;
  }

  /** Hashes of "c<n>:" + each n characters inside every padded token "<token>". */
  charNgrams(n: number): Int32Array {
    let hashes = this.chars.get(n);
    if (hashes) return hashes;
    const key = `c${n}:`;
    const prefix = feed(FNV_OFFSET, key, 0, key.length);
    const { codes, ends } = this.paddedCodes();
    let count = 0;
    let start = 0;
    for (const end of ends) {
      count += Math.max(0, end - start - n + 1);
      start = end;
    }
    hashes = new Int32Array(count);
    let k = 0;
    start = 0;
    for (const end of ends) {
      for (let i = start; i + n <= end; i++) {
        let h = prefix;
        for (let j = i; j < i + n; j++) h = Math.imul(h ^ (codes[j] ?? 0), FNV_PRIME);
        hashes[k++] = h;
      }
      start = end;
    }
    this.chars.set(n, hashes);
    return hashes;
  }

  private padded: { codes: Uint16Array; ends: Int32Array } | undefined;

  /**
   * Every padded token "<token>" as UTF-16 codes, end to end (ends[t]: where token t's ends),
   * built once for all char n-gram sizes: building each "<token>" string per size and reading it
   * back char by char cost more than the hashing.
   */
  private paddedCodes(): { codes: Uint16Array; ends: Int32Array } {
    if (this.padded) return this.padded;
    let length = 0;
    for (const token of this.tokens) length += token.length + 2;
    const codes = new Uint16Array(length);
    const ends = new Int32Array(this.tokens.length);
    let at = 0;
    this.tokens.forEach((token, t) => {
      codes[at++] = LEFT_PAD;
      for (let i = 0; i < token.length; i++) codes[at++] = token.charCodeAt(i);
      codes[at++] = RIGHT_PAD;
      ends[t] = at;
    });
    this.padded = { codes, ends };
    return this.padded;
  }
}

const extraHashes = new Map<string, number>();
function extraHash(name: string): number {
  let hash = extraHashes.get(name);
  if (hash === undefined) {
    hash = fnv1a(`x:${name}`);
    extraHashes.set(name, hash);
  }
  return hash;
}

/**
 * Builds the L2-normalised hashed feature vector of `text`. Feature keys are "w<n>:<words>",
 * "c<n>:<chars>" and "x:<name>"; their hashes are computed incrementally (same values as
 * fnv1a of the joined key) because building the key strings dominated the enricher's profile.
 */
export function hashFeatures(text: string, options: FeatureOptions): SparseVector {
  return hashedVector(new NgramHashes(featureTokens(text)), options);
}

/** hashFeatures over precomputed n-gram hashes (see NgramHashes). */
export function hashedVector(hashes: NgramHashes, options: FeatureOptions): SparseVector {
  const mask = options.dimension - 1;
  // Word features add 1 and char features 0.5, the hash's top bit picking the sign so
  // colliding features tend to cancel rather than pile up. Indices come out sorted, which
  // makes the vector independent of the order features were produced in.
  const summed = sumFeatures(
    options.wordNgrams.map((n) => hashes.wordNgrams(n)),
    options.charNgrams.map((n) => hashes.charNgrams(n)),
    mask,
  );
  // summed's arrays are scratch until the next sumFeatures call: the extras are added into its
  // sums in place, and only the indices, which the vector keeps, are copied.
  let count = summed.length;
  let indices: Int32Array = summed.indices.slice(0, count);
  let sums: Float64Array = summed.sums;
  const added = addExtras(indices, sums, count, options.extra, mask);
  if (added) ({ indices, sums, count } = added);
  const values = new Float32Array(count);
  let norm = 0;
  for (let k = 0; k < count; k++) {
    const value = sums[k] ?? 0;
    values[k] = value;
    norm += value * value;
  }
  norm = Math.sqrt(norm) || 1;
  for (let k = 0; k < count; k++) values[k] = (values[k] ?? 0) / norm;
  return { indices, values };
}

/**
 * Adds the extras into the sorted buckets indices/sums[0, count), one after another, as a dense
 * accumulator would add them: an extra whose bucket an n-gram touched is added to its sum in
 * place; the others are collected (summed in the same order when two share a bucket) and merged
 * in once, where inserting each into copies of both arrays took a third of the topic model's
 * time. Returns the grown arrays, or undefined when the extras only touched existing buckets.
 */
function addExtras(
  indices: Int32Array,
  sums: Float64Array,
  count: number,
  extra: Readonly<Record<string, number>> | undefined,
  mask: number,
): { indices: Int32Array; sums: Float64Array; count: number } | undefined {
  const newIndices: number[] = [];
  const newSums: number[] = [];
  for (const name in extra) {
    const value = extra[name] ?? 0;
    if (value === 0) continue;
    const u = extraHash(name) >>> 0;
    const index = u & mask;
    const signed = u & 0x80000000 ? -value : value;
    const at = lowerBound(indices, count, index);
    if (at < count && indices[at] === index) {
      sums[at] = (sums[at] ?? 0) + signed;
      continue;
    }
    const pending = newIndices.indexOf(index);
    if (pending >= 0) newSums[pending] = (newSums[pending] ?? 0) + signed;
    else {
      newIndices.push(index);
      newSums.push(signed);
    }
  }
  if (newIndices.length === 0) return undefined;
  const order = newIndices
    .map((_, k) => k)
    .sort((a, b) => (newIndices[a] ?? 0) - (newIndices[b] ?? 0));
  const total = count + newIndices.length;
  const mergedIndices = new Int32Array(total);
  const mergedSums = new Float64Array(total);
  let from = 0;
  let to = 0;
  for (const k of order) {
    const index = newIndices[k] ?? 0;
    while (from < count && (indices[from] ?? 0) < index) {
      mergedIndices[to] = indices[from] ?? 0;
      mergedSums[to++] = sums[from++] ?? 0;
    }
    mergedIndices[to] = index;
    mergedSums[to++] = newSums[k] ?? 0;
  }
  while (from < count) {
    mergedIndices[to] = indices[from] ?? 0;
    mergedSums[to++] = sums[from++] ?? 0;
  }
  return { indices: mergedIndices, sums: mergedSums, count: total };
}

/** The first position in sorted[0, length) whose value is not below `value`. */
function lowerBound(sorted: Int32Array, length: number, value: number): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] ?? 0) < value) low = mid + 1;
    else high = mid;
  }
  return low;
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
