import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { hashFeatures } from "../../src/nlp/features.js";
import { HashedMlp, type HashedMlpHeader } from "../../src/nlp/hashed-mlp.js";
import { Int8HashedMlp } from "../../src/nlp/hashed-mlp-int8.js";
import { TOXICITY_FEATURES, TOXICITY_MODEL_FILE } from "../../src/nlp/toxicity.js";
import { enrichCorpus } from "./golden/enrich-corpus.js";

const models = new URL("../../src/nlp/models/", import.meta.url);
const header = (
  JSON.parse(readFileSync(new URL(TOXICITY_MODEL_FILE, models), "utf8")) as {
    mlp: HashedMlpHeader;
  }
).mlp;

describe("int8 hashed MLP", () => {
  it("should give the decoded network's logit bit for bit on the shipped toxicity model", () => {
    const decoded = HashedMlp.load(new URL(header.file, models), header);
    const packed = Int8HashedMlp.load(new URL(header.file, models), header);
    const differing = enrichCorpus()
      .map((input) => hashFeatures(`${input.title ?? ""} ${input.body}`, TOXICITY_FEATURES))
      .filter((vector) => !Object.is(packed.logit(vector), decoded.logit(vector)));
    expect(differing).toEqual([]);
    expect(packed.logit(hashFeatures("you are an idiot", TOXICITY_FEATURES))).not.toBe(0);
  });

  it("should refuse a file whose size does not match its header", () => {
    expect(() =>
      Int8HashedMlp.load(new URL(header.file, models), { ...header, hidden: 7 }),
    ).toThrow(/expected/);
  });
});
