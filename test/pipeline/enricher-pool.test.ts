import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createOfflineEnricher, type Enricher } from "../../src/nlp/enricher.js";
import {
  type BatchEnricher,
  createPooledEnricher,
  EnricherPoolError,
  isBatchEnricher,
} from "../../src/pipeline/enrich/enricher-pool.js";

let pool: BatchEnricher;
let local: Enricher;
beforeAll(async () => {
  // Warmed up as `trendgate start` does: the outcomes below must still equal the in-process ones.
  pool = await createPooledEnricher({ threads: 2, maxChars: 5000, warmupTexts: 40 });
  local = await createOfflineEnricher({ maxChars: 5000 });
}, 60_000);
afterAll(async () => {
  await pool?.close?.();
});

const inputs = Array.from({ length: 40 }, (_, i) => ({
  source: "wire",
  title: i % 3 === 0 ? null : `Story ${i}`,
  body:
    i % 5 === 0
      ? "You are all idiots and I hate this."
      : `Item ${i}: the city council approved a new budget for public transport and ${i} new buses.`,
  url: null,
}));

describe("pooled enricher (worker threads)", () => {
  it("should return, in input order, what the in-process enricher returns", async () => {
    const outcomes = await pool.enrichMany(inputs);
    expect(outcomes).toHaveLength(inputs.length);
    for (const [i, outcome] of outcomes.entries()) {
      if ("error" in outcome) throw new Error(`item ${i} failed: ${outcome.error}`);
      expect(outcome.enrichment).toEqual(await local.enrich(inputs[i]!));
      expect(outcome.elapsedMs).toBeGreaterThan(0);
    }
    expect(pool.model).toBe(local.model);
    expect(isBatchEnricher(pool)).toBe(true);
    expect(isBatchEnricher(local)).toBe(false);
  });

  it("should enrich one item through enrich() and an empty batch without a task", async () => {
    expect(await pool.enrich(inputs[1]!)).toEqual(await local.enrich(inputs[1]!));
    expect(await pool.enrichMany([])).toEqual([]);
  });

  it("should refuse work once closed, with a retryable pool error", async () => {
    const closing = await createPooledEnricher({ threads: 1, maxChars: 5000 });
    await closing.close?.();
    await expect(closing.enrichMany(inputs.slice(0, 2))).rejects.toBeInstanceOf(EnricherPoolError);
  }, 60_000);
});
