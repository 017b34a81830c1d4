import { readFileSync } from "node:fs";

import { stemmer } from "stemmer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type Embedder, EmbedderError } from "../../src/nlp/embedder.js";
import {
  createFastEmbedder,
  FAST_EMBEDDER_MODEL,
  FAST_MODEL_URL,
} from "../../src/nlp/embedder-fast.js";
import { decodeFastModel, encodeFastModel } from "../../src/nlp/embedder-fast-model.js";

let embedder: Embedder;
beforeAll(() => {
  embedder = createFastEmbedder();
});
afterAll(async () => {
  await embedder.close();
});

const cosine = (a: readonly number[], b: readonly number[]): number =>
  a.reduce((s, v, i) => s + v * (b[i] ?? 0), 0);

/** Hand-written news sentences: a paraphrase of each anchor, and an unrelated sentence. */
const TRIPLES = [
  [
    "The central bank raised its key interest rate to fight inflation.",
    "Policymakers lifted borrowing costs in a bid to cool rising prices.",
    "The striker scored twice as the club won the cup final.",
  ],
  [
    "A powerful earthquake struck the coast early on Monday, damaging hundreds of homes.",
    "Hundreds of houses were damaged when a strong quake hit the coastline on Monday morning.",
    "The company unveiled a new smartphone with a larger battery.",
  ],
  [
    "The tennis champion withdrew from the tournament with a wrist injury.",
    "An injured wrist forced the title holder to pull out of the tennis event.",
    "Parliament passed a law to cut taxes for small businesses.",
  ],
  [
    "Scientists found water ice in a crater near the moon's south pole.",
    "Researchers discovered frozen water inside a lunar crater close to the south pole.",
    "Shares of the airline fell after it reported a quarterly loss.",
  ],
] as const;

describe("fast embedder", () => {
  it("should name its model and produce unit vectors of its dimension", async () => {
    expect(embedder.model).toBe(FAST_EMBEDDER_MODEL);
    const vectors = await embedder.embed(TRIPLES.map((t) => t[0]));
    for (const v of vectors) {
      expect(v).toHaveLength(embedder.dimension);
      expect(Math.sqrt(cosine(v, v))).toBeCloseTo(1, 5);
    }
  });

  it("should be deterministic across calls, batches and instances", async () => {
    const texts = TRIPLES.flat();
    const together = await embedder.embed(texts);
    const oneByOne = await Promise.all(texts.map(async (t) => (await embedder.embed([t]))[0]));
    const other = createFastEmbedder();
    expect(oneByOne).toEqual(together);
    expect(await other.embed(texts)).toEqual(together);
    await other.close();
  });

  it("should place each paraphrase closer than the unrelated sentence", async () => {
    for (const [anchor, paraphrase, unrelated] of TRIPLES) {
      const [a, p, u] = await embedder.embed([anchor, paraphrase, unrelated]);
      expect(cosine(a!, p!), anchor).toBeGreaterThan(cosine(a!, u!) + 0.2);
    }
  });

  it("should embed texts with no letters or digits as one fixed unit vector, never the zero vector, in input order", async () => {
    const [before, empty, other, after] = await embedder.embed([
      "Rates rose.",
      " ... ",
      "?!",
      "Rates rose.",
    ]);
    expect(cosine(empty!, empty!)).toBeCloseTo(1, 5);
    expect(other).toEqual(empty);
    expect(cosine(before!, empty!)).toBeLessThan(0.5);
    expect(after).toEqual(before);
  });

  it("should refuse to embed after close with EMBEDDER_CLOSED", async () => {
    const closed = createFastEmbedder();
    await closed.close();
    const error = await closed.embed(["text"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbedderError);
    expect(error).toMatchObject({ code: "EMBEDDER_CLOSED", retryable: false });
  });

  it("should load a file without the lexical part (v1's format) and append it when present", async () => {
    // The distilled base train-fast-embedder.ts writes has none; v2 and v3 append 128 dimensions.
    const { header, table } = decodeFastModel(readFileSync(FAST_MODEL_URL));
    const { lexical, ...withoutLexical } = header;
    expect(lexical?.dimension).toBe(128);
    const base = createFastEmbedder({ bytes: encodeFastModel(withoutLexical, table) });
    expect(base.dimension).toBe(256);
    expect(embedder.dimension).toBe(256 + 128);
    const [vector] = await base.embed(["Rates rose."]);
    expect(vector).toHaveLength(256);
    await base.close();
  });

  it("should give an unknown inflection its stem's vocabulary row with stemBackoff (v4), and char n-grams without", async () => {
    const { header, table } = decodeFastModel(readFileSync(FAST_MODEL_URL));
    expect(header.features.stemBackoff).toBe(true);
    expect(header.lexical?.stem).toBe(true);
    const vocab = new Set(header.vocab);
    // A plural the vocabulary lacks, whose stem a vocabulary word shares.
    const word = header.vocab
      .filter((w) => /^[a-z]{6,}$/.test(w))
      .map((w) => `${w}s`)
      .find((w) => !vocab.has(w) && stemmer(w) === stemmer(w.slice(0, -1)));
    expect(word).toBeDefined();
    const { stemBackoff: _, ...noBackoff } = header.features;
    const plain = { ...header, features: noBackoff };
    const without = createFastEmbedder({ bytes: encodeFastModel(plain, table) });
    const [withRow] = await embedder.embed([word!]);
    const [nGramsOnly] = await without.embed([word!]);
    expect(cosine(withRow!, nGramsOnly!)).toBeLessThan(0.99);
    await without.close();
  });

  it("should fail to load a file that is not its model format", () => {
    expect(() => createFastEmbedder({ modelFile: new URL(import.meta.url) })).toThrow(
      /not a fast embedder model file/,
    );
  });
});
