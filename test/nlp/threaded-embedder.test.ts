import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Embedder } from "../../src/nlp/embedder.js";
import { createThreadedEmbedder } from "../../src/nlp/threaded-embedder.js";

let embedder: Embedder;
beforeAll(async () => {
  embedder = await createThreadedEmbedder();
}, 60_000);
afterAll(async () => embedder?.close());

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe("threaded offline embedder", () => {
  it("should embed in a worker thread with the same model, dimension and unit vectors", async () => {
    expect(embedder.dimension).toBe(512);
    expect(embedder.model).toBe("universal-sentence-encoder-lite");
    const [a, b, c] = await embedder.embed([
      "The striker scored twice in the cup final.",
      "Two goals from the forward won the cup final.",
      "Heavy rain flooded the city streets overnight.",
    ]);
    expect(Math.abs(cosine(a!, a!) - 1)).toBeLessThan(1e-3);
    expect(cosine(a!, b!)).toBeGreaterThan(cosine(a!, c!));
  });

  it("should answer concurrent calls each with its own vectors", async () => {
    const texts = ["one", "two words", "three words here", "and four words here"];
    const results = await Promise.all(texts.map((t) => embedder.embed([t])));
    const together = await embedder.embed(texts);
    results.forEach((r, i) => expect(cosine(r[0]!, together[i]!)).toBeGreaterThan(0.999));
  });

  it("should refuse calls after close with EMBEDDER_CLOSED", async () => {
    const other = await createThreadedEmbedder();
    await other.close();
    await expect(other.embed(["x"])).rejects.toMatchObject({ code: "EMBEDDER_CLOSED" });
  });
});
