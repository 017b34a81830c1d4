import { describe, expect, it } from "vitest";

import type { Embedder } from "../../src/nlp/embedder.js";
import { MicroBatchEmbedder } from "../../src/nlp/micro-batch-embedder.js";

/** A deterministic embedder that records the batches it was asked for. */
function recordingEmbedder(failOn?: string): Embedder & { batches: string[][] } {
  const batches: string[][] = [];
  return {
    model: "test",
    dimension: 2,
    batches,
    async embed(texts) {
      batches.push(texts);
      await new Promise((r) => setTimeout(r, 20));
      if (failOn && texts.includes(failOn)) throw new Error("model failed");
      return texts.map((t) => [t.length, 1]);
    },
    async close() {},
  };
}

describe("MicroBatchEmbedder", () => {
  it("should batch concurrent calls and give each caller its own vectors in order", async () => {
    const inner = recordingEmbedder();
    const embedder = new MicroBatchEmbedder(inner, 8);
    const results = await Promise.all(["a", "bb", "ccc", "dddd"].map((t) => embedder.embed([t])));
    expect(results).toEqual([[[1, 1]], [[2, 1]], [[3, 1]], [[4, 1]]]);
    expect(inner.batches).toEqual([["a", "bb", "ccc", "dddd"]]);
  });

  it("should collect calls arriving during a batch into the next one, up to the limit", async () => {
    const inner = recordingEmbedder();
    const embedder = new MicroBatchEmbedder(inner, 2);
    const first = embedder.embed(["x"]);
    await new Promise((r) => setTimeout(r, 5));
    const later = await Promise.all([
      embedder.embed(["y"]),
      embedder.embed(["z"]),
      embedder.embed(["w"]),
    ]);
    await first;
    expect(later.map((v) => v.length)).toEqual([1, 1, 1]);
    expect(inner.batches).toEqual([["x"], ["y", "z"], ["w"]]);
  });

  it("should fail only the callers of a failed batch", async () => {
    const embedder = new MicroBatchEmbedder(recordingEmbedder("bad"), 1);
    const [bad, good] = await Promise.allSettled([
      embedder.embed(["bad"]),
      embedder.embed(["good"]),
    ]);
    expect(bad.status).toBe("rejected");
    expect(good).toEqual({ status: "fulfilled", value: [[4, 1]] });
  });
});
