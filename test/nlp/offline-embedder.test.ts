import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createOfflineEmbedder, type Embedder, EmbedderError } from "../../src/nlp/embedder.js";

let embedder: Embedder;
beforeAll(async () => {
  embedder = await createOfflineEmbedder({ batchSize: 4 });
});
afterAll(async () => {
  await embedder.close();
});

const cosine = (a: readonly number[], b: readonly number[]): number =>
  a.reduce((s, v, i) => s + v * (b[i] ?? 0), 0);

describe("offline embedder (USE lite)", () => {
  it("should produce 512-d unit vectors", async () => {
    expect(embedder.model).toBe("universal-sentence-encoder-lite");
    expect(embedder.dimension).toBe(512);
    const [v] = await embedder.embed(["The central bank raised interest rates."]);
    expect(v).toHaveLength(512);
    expect(Math.sqrt(cosine(v ?? [], v ?? []))).toBeCloseTo(1, 5);
  });

  it("should place a paraphrase closer than an unrelated sentence", async () => {
    const [a, paraphrase, unrelated] = await embedder.embed([
      "The central bank raised its key interest rate to fight inflation.",
      "Policymakers lifted borrowing costs in a bid to cool rising prices.",
      "The striker scored twice as the club won the cup final.",
    ]);
    expect(cosine(a ?? [], paraphrase ?? [])).toBeGreaterThan(
      cosine(a ?? [], unrelated ?? []) + 0.2,
    );
  });

  it("should keep input order across length buckets and batches, including empty texts", async () => {
    const texts = [
      "A much longer sentence about a wildfire that forced thousands of residents to leave their homes overnight.",
      "",
      "Short one.",
      "Pilots went on strike.",
      "Another fairly long sentence about the national election and the coalition talks that will follow it.",
      "Rates rise.",
    ];
    const together = await embedder.embed(texts);
    expect(together).toHaveLength(texts.length);
    for (const [i, text] of texts.entries()) {
      const [alone] = await embedder.embed([text]);
      expect(cosine(together[i] ?? [], alone ?? [])).toBeGreaterThan(0.9999);
    }
  });

  it("should refuse calls after close", async () => {
    const other = await createOfflineEmbedder();
    await other.close();
    const error = await other.embed(["x"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbedderError);
    expect((error as EmbedderError).code).toBe("EMBEDDER_CLOSED");
  });
});
