import { existsSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { cleanProse, MIN_WORDS } from "../../src/nlp/train/clean-prose.js";
import { DATASETS_DIR, isValidation } from "../../src/nlp/train/corpora.js";
import { splitOf, trainingText } from "../../src/nlp/train/splits.js";

// The corpora live beside the repository (../shared), not in it; a clone without them skips.
const present = existsSync(`${DATASETS_DIR.replace(/\/?$/, "/")}sst2-train.jsonl`);

describe("cleanProse", () => {
  it.skipIf(!present)(
    "should never hand the toxicity trainer a row any validation figure is measured on",
    () => {
      for (const corpus of ["sst2", "stsb"] as const) {
        const train = cleanProse(corpus, "train");
        const validation = cleanProse(corpus, "validation");
        expect(train.length).toBeGreaterThan(1000);
        expect(validation.length).toBeGreaterThan(500);
        const held = new Set(validation);
        expect(train.some((t) => held.has(t))).toBe(false);
        expect(train.some((t) => isValidation(t))).toBe(false);
        expect(train.some((t) => splitOf(trainingText(t)) === "validation")).toBe(false);
        expect(validation.every((t) => splitOf(trainingText(t)) === "validation")).toBe(true);
      }
      expect(cleanProse("sst2", "train").every((t) => t.split(/\s+/).length >= MIN_WORDS)).toBe(
        true,
      );
    },
  );

  it("should keep AG News out of training", () => {
    expect(() => cleanProse("agnews", "train")).toThrow(/kept out of training/);
  });
});
