import { describe, expect, it } from "vitest";

import {
  type FastLexicalConfig,
  inverseDocumentFrequencies,
  lexicalHashes,
  lexicalVector,
} from "../../src/nlp/embedder-fast-lexical.js";

const vocab = new Map(["the", "a", "guitar", "flute", "man"].map((w, i) => [w, i]));
const texts = [
  ["the", "man", "plays", "a", "guitar"],
  ["the", "man", "plays", "a", "flute"],
  ["the", "dog", "runs"],
  ["a", "man", "sings"],
];

function config(idf: { idf: number[]; unknownIdf: number }, dimension = 64): FastLexicalConfig {
  return { dimension, hashes: 8, share: 0.3, ...idf };
}

function unit(tokens: string[], c: FastLexicalConfig): Float32Array {
  const out = new Float32Array(c.dimension);
  const norm = lexicalVector(tokens, vocab, c, out);
  return out.map((v) => v / norm);
}

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

describe("fast embedder lexical part", () => {
  it("should give a word that every text has a lower idf than a word one text has, and unknown words the highest", () => {
    const { idf, unknownIdf } = inverseDocumentFrequencies(texts, vocab);
    // "the" is in 3 of 4 texts, "guitar" in 1, "man" in 3 (counted once per text).
    expect(idf[vocab.get("the")!]).toBeCloseTo(Math.log(5 / 4), 4);
    expect(idf[vocab.get("guitar")!]).toBeCloseTo(Math.log(5 / 2), 4);
    expect(unknownIdf).toBeGreaterThan(Math.max(...idf));
  });

  it("should place texts that share a rare word closer than texts that share only common words", () => {
    const c = config(inverseDocumentFrequencies(texts, vocab), 256);
    const guitar = unit(["the", "man", "plays", "a", "guitar"], c);
    const guitarAgain = unit(["a", "guitar"], c);
    const commonOnly = unit(["the", "a", "man"], c);
    expect(cosine(guitar, guitarAgain)).toBeGreaterThan(cosine(guitar, commonOnly) + 0.1);
  });

  it("should be the same vector for the same words in any order, and zero for no words", () => {
    const c = config(inverseDocumentFrequencies(texts, vocab));
    expect(unit(["guitar", "man"], c)).toEqual(unit(["man", "guitar"], c));
    const empty = new Float32Array(c.dimension);
    expect(lexicalVector([], vocab, c, empty)).toBe(0);
  });

  it("should count inflections of one word as the same word when stemmed (v4), and not before", () => {
    const plain = config(inverseDocumentFrequencies(texts, vocab), 256);
    const stemmed = { ...config(inverseDocumentFrequencies(texts, vocab, true), 256), stem: true };
    // "flutes" is not in the vocabulary: only its stem ties it to "flute".
    expect(cosine(unit(["flute"], stemmed), unit(["flutes"], stemmed))).toBeCloseTo(1, 5);
    expect(cosine(unit(["flute"], plain), unit(["flutes"], plain))).toBeLessThan(0.5);
    // The stem's idf counts the texts holding any form: "plays" and "play" are one word.
    const forms = [["plays"], ["play"], ["sings"]];
    const v = new Map([
      ["play", 0],
      ["sings", 1],
    ]);
    expect(inverseDocumentFrequencies(forms, v, true).idf[0]).toBeCloseTo(Math.log(4 / 3), 4);
    expect(inverseDocumentFrequencies(forms, v).idf[0]).toBeCloseTo(Math.log(4 / 2), 4);
  });

  it("should give the same vector with the embedder's precomputed vocabulary hashes as without", () => {
    const c = { ...config(inverseDocumentFrequencies(texts, vocab, true)), stem: true };
    const tokens = ["the", "man", "plays", "a", "guitar", "flutes"];
    const withHashes = new Float32Array(c.dimension);
    const without = new Float32Array(c.dimension);
    const norm = lexicalVector(tokens, vocab, c, withHashes, lexicalHashes(vocab, c));
    expect(norm).toBeGreaterThan(0);
    expect(norm).toBeCloseTo(lexicalVector(tokens, vocab, c, without), 5);
    expect(withHashes).toEqual(without);
  });
});
