/**
 * The fast embedder beside USE-lite, in one run (issue 15): texts/s on one core at batch 1 and
 * 32 on news-length texts (AG News validation rows), STS-B Spearman and AG News same-topic@5 on
 * the validation splits of ../shared/datasets (src/nlp/train/corpora.ts `isValidation`).
 * Throughput is the median of --passes runs with the spread (min–max); quality is
 * deterministic and measured once. Last line: one JSON object.
 *
 *   npx tsx bench/nlp/embedder-compare.ts [--passes 3] [--texts 256] [--models fast,use-lite]
 *
 * Both models run in this process on its main thread: one core each (USE-lite's WASM backend is
 * single-threaded; the fast model is plain JS).
 */
import { parseArgs } from "node:util";

import type { Embedder } from "../../src/nlp/embedder.js";
import { createOfflineEmbedder } from "../../src/nlp/embedder.js";
import { createFastEmbedder } from "../../src/nlp/embedder-fast.js";
import { embedderSplits } from "../../src/nlp/train/corpora.js";
import { embedderFigures } from "../../src/nlp/train/embedder-metrics.js";

const { values: args } = parseArgs({
  options: {
    passes: { type: "string", default: "3" },
    texts: { type: "string", default: "256" },
    models: { type: "string", default: "fast,use-lite" },
  },
});
const passes = Number(args.passes);
const factories: Record<string, () => Promise<Embedder>> = {
  fast: () => Promise.resolve(createFastEmbedder()),
  "use-lite": () => createOfflineEmbedder(),
};
const models = args.models.split(",").filter((m) => m in factories);

const splits = embedderSplits();
const { stsVal, agVal } = splits;
const newsTexts = agVal.slice(0, Number(args.texts)).map((r) => r.text);
const words = (t: string) => t.split(/\s+/).filter(Boolean).length;
const meanWords = newsTexts.reduce((s, t) => s + words(t), 0) / newsTexts.length;

async function textsPerSecond(embedder: Embedder, batch: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < newsTexts.length; i += batch)
    await embedder.embed(newsTexts.slice(i, i + batch));
  return newsTexts.length / (Number(process.hrtime.bigint() - started) / 1e9);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

interface Row {
  model: string;
  name: string;
  dimension: number;
  batch1: { median: number; min: number; max: number };
  batch32: { median: number; min: number; max: number };
  stsSpearman: number;
  agSameTopicAt5: number;
}
const rows: Row[] = [];
for (const key of models) {
  const embedder = await factories[key]!();
  await embedder.embed(newsTexts.slice(0, 8)); // warm-up: JIT, WASM compilation
  const speed = { 1: [] as number[], 32: [] as number[] };
  for (let p = 0; p < passes; p++) {
    for (const batch of [1, 32] as const) speed[batch].push(await textsPerSecond(embedder, batch));
    console.error(
      `${key}: pass ${p + 1}/${passes} batch 1 ${speed[1].at(-1)?.toFixed(1)}/s, batch 32 ${speed[32].at(-1)?.toFixed(1)}/s`,
    );
  }
  const vectors = async (texts: string[]) => {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += 32)
      out.push(...(await embedder.embed(texts.slice(i, i + 32))));
    return out;
  };
  const { sts, ag5: ag } = await embedderFigures(vectors, splits);
  const summary = (xs: number[]) => ({
    median: round(median(xs)),
    min: round(Math.min(...xs)),
    max: round(Math.max(...xs)),
  });
  rows.push({
    model: key,
    name: embedder.model,
    dimension: embedder.dimension,
    batch1: summary(speed[1]),
    batch32: summary(speed[32]),
    stsSpearman: round(sts, 4),
    agSameTopicAt5: round(ag, 4),
  });
  await embedder.close();
}

const speedCell = (s: Row["batch1"]) => `${s.median} (${s.min}–${s.max})`;
console.log(
  `news-length texts: ${newsTexts.length} AG News validation rows, mean ${meanWords.toFixed(1)} words; ` +
    `STS-B validation ${stsVal.length} pairs; AG News validation ${agVal.length} rows; ${passes} passes`,
);
console.table(
  rows.map((r) => ({
    model: r.model,
    dimension: r.dimension,
    "texts/s batch 1": speedCell(r.batch1),
    "texts/s batch 32": speedCell(r.batch32),
    "STS-B ρ": r.stsSpearman,
    "AG same-topic@5": r.agSameTopicAt5,
  })),
);
console.log(
  JSON.stringify({
    bench: "embedder-compare",
    passes,
    newsTexts: newsTexts.length,
    meanWords: round(meanWords),
    models: rows,
  }),
);
