import { describe, expect, it } from "vitest";

import {
  embeddingProgressText,
  waitingModels,
} from "../../web/src/ui/operations/embedding-progress.js";

/** The pipeline health view's line on re-embedding (issue 15, item 1). */
describe("embedding progress text", () => {
  it("should count what moved and what waits while another model's vectors remain", () => {
    const p = {
      model: "fast-v2",
      total: 10,
      pending: 4,
      records: [
        { model: "fast-v2", records: 6 },
        { model: "openai", records: 1 },
        { model: "use-lite", records: 3 },
      ],
    };
    expect(embeddingProgressText(p)).toBe(
      "Embeddings: model fast-v2 — 6 of 10 re-embedded (4 pending)",
    );
    expect(waitingModels(p)).toBe("openai (1), use-lite (3)");
  });

  it("should say only the count and the model when nothing is pending", () => {
    const p = {
      model: "fast-v2",
      total: 7,
      pending: 0,
      records: [{ model: "fast-v2", records: 7 }],
    };
    expect(embeddingProgressText(p)).toBe("Embeddings: all 7 vectors by model fast-v2");
    expect(waitingModels(p)).toBe("");
  });

  it("should not claim vectors before the first item is embedded", () => {
    const p = { model: "fast-v2", total: 0, pending: 0, records: [] };
    expect(embeddingProgressText(p)).toBe("Embeddings: no vectors yet, model fast-v2");
  });
});
