/**
 * Recall@5 of an offline embedder on the hand-written similarity set, and its throughput.
 *
 *   npx tsx bench/nlp/embedding-recall.ts [--model use-lite|fast] [--batch 32] [--passes 3]
 *
 * --model use-lite (the default here, whose batching the throughput lines are about) or fast
 * (the default embedder: `EMBEDDER=fast`, src/nlp/embedder-fast.ts; its batch size changes
 * nothing).
 *
 * Query = each item; relevant = the other items of its group (a group is one news story: an
 * anchor, two paraphrases, four same-story items). Recall@5 = relevant items in the top 5 /
 * min(5, relevant count), averaged over queries. A hashed bag-of-words cosine is printed beside
 * it as the lexical baseline the embedding has to beat.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import {
  createOfflineEmbedder,
  DEFAULT_OFFLINE_BATCH_SIZE,
  type Embedder,
} from "../../src/nlp/embedder.js";
import { createFastEmbedder } from "../../src/nlp/embedder-fast.js";
import { hashFeatures } from "../../src/nlp/features.js";

const { values: args } = parseArgs({
  options: {
    model: { type: "string", default: "use-lite" },
    batch: { type: "string" },
    passes: { type: "string" },
  },
});
if (args.model !== "use-lite" && args.model !== "fast")
  throw new Error(`--model must be use-lite or fast, got ${args.model}`);
const createEmbedder = (batch: number): Promise<Embedder> =>
  args.model === "fast"
    ? Promise.resolve(createFastEmbedder())
    : createOfflineEmbedder({ batchSize: batch });
const batchSize = Number(args.batch ?? DEFAULT_OFFLINE_BATCH_SIZE);
const passes = Number(args.passes ?? 3);

interface Item {
  id: string;
  group: string;
  relation: string;
  text: string;
}
const items = readFileSync(
  new URL("../../src/nlp/data/similarity-pairs.jsonl", import.meta.url),
  "utf8",
)
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as Item);
const texts = items.map((i) => i.text);

function evaluate(similarity: (a: number, b: number) => number): {
  recall: number;
  paraphraseAt1: number;
} {
  let recallSum = 0;
  let paraphraseHits = 0;
  let anchors = 0;
  items.forEach((query, qi) => {
    const ranked = items
      .map((_, j) => j)
      .filter((j) => j !== qi)
      .sort((a, b) => similarity(qi, b) - similarity(qi, a) || a - b);
    const relevant = items.filter((it, j) => j !== qi && it.group === query.group).length;
    const hits = ranked.slice(0, 5).filter((j) => items[j]?.group === query.group).length;
    recallSum += hits / Math.min(5, relevant);
    if (query.relation === "anchor") {
      anchors++;
      if (
        items[ranked[0] ?? -1]?.relation === "paraphrase" &&
        items[ranked[0] ?? -1]?.group === query.group
      )
        paraphraseHits++;
    }
  });
  return { recall: recallSum / items.length, paraphraseAt1: paraphraseHits / anchors };
}

const dot = (a: readonly number[], b: readonly number[]): number =>
  a.reduce((s, v, i) => s + v * (b[i] ?? 0), 0);

const loadStarted = performance.now();
const embedder = await createEmbedder(batchSize);
const loadMs = performance.now() - loadStarted;
const vectors = await embedder.embed(texts);
const embedding = evaluate((a, b) => dot(vectors[a] ?? [], vectors[b] ?? []));

const bags = texts.map((t) => {
  const v = hashFeatures(t, { dimension: 1 << 18, wordNgrams: [1], charNgrams: [] });
  return new Map(Array.from(v.indices, (idx, k) => [idx, v.values[k] ?? 0]));
});
const lexical = evaluate((a, b) => {
  let s = 0;
  for (const [k, v] of bags[a] ?? new Map<number, number>())
    s += v * ((bags[b] ?? new Map<number, number>()).get(k) ?? 0);
  return s;
});

async function throughput(batch: number): Promise<number> {
  const e = batch === batchSize ? embedder : await createEmbedder(batch);
  await e.embed(texts.slice(0, 4));
  const started = performance.now();
  for (let p = 0; p < passes; p++) {
    // Calls of `batch` texts, as a worker pulling batches from the stream would make them.
    for (let i = 0; i < texts.length; i += batch) await e.embed(texts.slice(i, i + batch));
  }
  const rate = (texts.length * passes) / ((performance.now() - started) / 1000);
  if (e !== embedder) await e.close();
  return rate;
}

const words = texts.reduce((s, t) => s + t.split(/\s+/).length, 0) / texts.length;
console.log(
  `similarity set: ${items.length} items, ${new Set(items.map((i) => i.group)).size} groups, ${words.toFixed(1)} words/item`,
);
console.log(`model ${embedder.model} (${embedder.dimension}-d), loaded in ${loadMs.toFixed(0)} ms`);
console.log(
  `recall@5 ${embedding.recall.toFixed(3)} · anchor's top-1 is a paraphrase ${embedding.paraphraseAt1.toFixed(3)}`,
);
console.log(
  `lexical baseline (hashed bag of words): recall@5 ${lexical.recall.toFixed(3)} · paraphrase@1 ${lexical.paraphraseAt1.toFixed(3)}`,
);
const perOne = await throughput(1);
const perBatch = await throughput(batchSize);
console.log(`throughput batch 1: ${perOne.toFixed(1)} items/s`);
console.log(`throughput batch ${batchSize}: ${perBatch.toFixed(1)} items/s`);
// Longer items (≈ 60 words) show the padding cost that length bucketing limits.
const long = texts.map(
  (t, i) => `${t} ${texts[(i + 7) % texts.length]} ${texts[(i + 13) % texts.length]}`,
);
const mixed = texts.map((t, i) => (i % 2 === 0 ? t : (long[i] ?? t)));
const startedMixed = performance.now();
for (let p = 0; p < passes; p++) await embedder.embed(mixed);
console.log(
  `throughput batch ${batchSize}, mixed 20/60-word items, bucketed: ${((mixed.length * passes) / ((performance.now() - startedMixed) / 1000)).toFixed(1)} items/s`,
);
await embedder.close();
