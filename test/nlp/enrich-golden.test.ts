import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { enrichCorpus } from "./golden/enrich-corpus.js";
import { type GoldenRecord, goldenRecord } from "./golden/enrich-golden-record.js";

// Recorded from the enricher before its speed-ups (test/nlp/golden/record-enrich-golden.ts):
// any change to tokenisation or feature hashing shows up here as a different hash or score.
const golden = JSON.parse(
  readFileSync(new URL("./golden/enrich-golden.json", import.meta.url), "utf8"),
) as GoldenRecord[];

describe("enricher golden outputs", () => {
  it("should reproduce every recorded enrichment and raw model score", async () => {
    const inputs = enrichCorpus();
    expect(inputs.length).toBe(golden.length);
    const mismatches: string[] = [];
    for (const [i, input] of inputs.entries()) {
      const expected = golden[i];
      const actual = await goldenRecord(input);
      if (actual.enrichment !== expected?.enrichment) mismatches.push(`#${i} enrichment`);
      actual.raw.forEach((value, k) => {
        if (!(Math.abs(value - (expected?.raw[k] ?? NaN)) <= 1e-12))
          mismatches.push(`#${i} raw[${k}]`);
      });
    }
    expect(mismatches).toEqual([]);
  });
});
