import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { describe, expect, it } from "vitest";

import { seededRandom } from "../../src/domain/seeded-random.js";
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

  it("should give the decoded network's logit bit for bit at a width other than the shipped 8", () => {
    // Int8HashedMlp has a loop for width 8 and a general one; the shipped model only reaches
    // the first. A random network of width 5 in the file's layout: int8 rows, float32 scales,
    // hidden bias, output weights, output bias.
    const random = seededRandom(11);
    const buckets = 1024;
    const hidden = 5;
    const file = Buffer.alloc(buckets * hidden + buckets * 4 + hidden * 8 + 4);
    for (let i = 0; i < buckets * hidden; i++) file.writeInt8(Math.floor(random() * 255) - 127, i);
    for (let at = buckets * hidden; at < file.length; at += 4)
      file.writeFloatLE((random() - 0.5) * 0.2, at);
    const dir = mkdtempSync(join(tmpdir(), "int8-mlp-"));
    writeFileSync(join(dir, "w5.bin"), file);
    const url = pathToFileURL(join(dir, "w5.bin"));
    const w5: HashedMlpHeader = { buckets, hidden, file: "w5.bin" };
    const decoded = HashedMlp.load(url, w5);
    const packed = Int8HashedMlp.load(url, w5);

    const vectors = enrichCorpus().map((input) =>
      hashFeatures(`${input.title ?? ""} ${input.body}`, TOXICITY_FEATURES),
    );
    expect(vectors.filter((v) => !Object.is(packed.logit(v), decoded.logit(v)))).toEqual([]);
    expect(new Set(vectors.map((v) => packed.logit(v))).size).toBeGreaterThan(1);
  });

  it("should refuse a file whose size does not match its header", () => {
    expect(() =>
      Int8HashedMlp.load(new URL(header.file, models), { ...header, hidden: 7 }),
    ).toThrow(/expected/);
  });
});
