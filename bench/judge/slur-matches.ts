/**
 * Where the slur list (src/nlp/slur-lexicon.ts) matches: every text of the clean corpora (SST-2
 * and STS-B train sentences, AG News items, the project's news and similarity sets), the
 * written-harm set (harm and hard clean posts, both slur-free by design), and Davidson's tweets
 * by split and label. A match on clean text is a post a moderator sees for nothing; on a toxic
 * tweet, harm that is no longer published unseen.
 *
 *   npx tsx bench/judge/slur-matches.ts [--datasets /work/shared/datasets]
 *
 * Prints a table and, last, one JSON line.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import { featureTokens } from "../../src/nlp/features.js";
import { containsSlur } from "../../src/nlp/slur-lexicon.js";
import { splitOf, trainingText } from "../../src/nlp/train/splits.js";

const { values: args } = parseArgs({
  options: { datasets: { type: "string", default: "/work/shared/datasets" } },
});

const readJsonl = (file: string): Record<string, unknown>[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
/** The texts of a row, whatever the corpus calls them (STS-B rows hold two). */
const textsOf = (row: Record<string, unknown>): string[] =>
  [row.text, row.sentence, row.a, row.b].filter((t): t is string => typeof t === "string");
const matches = (text: string) => containsSlur(featureTokens(text).join(" "));

const dataset = (name: string) => path.join(args.datasets, name);
const project = (name: string) => new URL(`../../src/nlp/data/${name}`, import.meta.url).pathname;
const cleanFiles = [
  dataset("sst2-train.jsonl"),
  dataset("stsb-train.jsonl"),
  dataset("agnews-train.jsonl"),
  project("topics.jsonl"),
  project("similarity-pairs.jsonl"),
];

const count = (file: string) => {
  const texts = readJsonl(file).flatMap(textsOf);
  return { texts: texts.length, matched: texts.filter(matches).length };
};
const clean: Record<string, { texts: number; matched: number }> = {};
for (const file of cleanFiles) clean[path.basename(file)] = count(file);
const cleanTotal = Object.values(clean).reduce(
  (t, c) => ({ texts: t.texts + c.texts, matched: t.matched + c.matched }),
  { texts: 0, matched: 0 },
);
const writtenHarm = count(project("written-harm.jsonl"));

const davidson: Record<
  string,
  { toxic: number; clean: number; toxicMatched: number; cleanMatched: number }
> = {};
for (const row of readJsonl(dataset("davidson-train.jsonl"))) {
  const text = String(row.text);
  const part =
    splitOf(trainingText(text)) === "validation" ? "validation" : "pool (train + calibration)";
  const d = (davidson[part] ??= { toxic: 0, clean: 0, toxicMatched: 0, cleanMatched: 0 });
  const toxic = row.label === "toxic";
  if (toxic) d.toxic++;
  else d.clean++;
  if (matches(text)) {
    if (toxic) d.toxicMatched++;
    else d.cleanMatched++;
  }
}

console.log(`${"clean corpus".padEnd(26)} ${"texts".padStart(7)} ${"matched".padStart(8)}`);
const row = (name: string, c: { texts: number; matched: number }) =>
  console.log(`${name.padEnd(26)} ${String(c.texts).padStart(7)} ${String(c.matched).padStart(8)}`);
for (const [name, c] of Object.entries(clean)) row(name, c);
row("all clean", cleanTotal);
row("written-harm.jsonl", writtenHarm);
console.log(`\n${"davidson".padEnd(26)} toxic matched / toxic · clean matched / clean`);
for (const [part, d] of Object.entries(davidson))
  console.log(`${part.padEnd(26)} ${d.toxicMatched} / ${d.toxic} · ${d.cleanMatched} / ${d.clean}`);
console.log(JSON.stringify({ clean, cleanTotal, writtenHarm, davidson }));
