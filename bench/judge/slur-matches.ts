/**
 * Where the slur list (src/nlp/slur-lexicon.ts) matches: every text of the clean corpora (SST-2
 * and STS-B train sentences, AG News items, the project's news and similarity sets), the
 * written-harm set (harm and hard clean posts, both slur-free by design), and Davidson's tweets
 * by split and label. A match on clean text is a post a moderator sees for nothing; on a toxic
 * tweet, harm that is no longer published unseen.
 *
 *   npx tsx bench/judge/slur-matches.ts
 *
 * The shared datasets are read where the other corpus tools read them (src/nlp/train/corpora.ts:
 * ../shared/datasets, or TRENDGATE_DATASETS). Prints a table and, last, one JSON line.
 */
import { featureTokens } from "../../src/nlp/features.js";
import { readJsonl } from "../../src/nlp/jsonl.js";
import { containsSlur } from "../../src/nlp/slur-lexicon.js";
import { CORPORA, type CorpusName, corpusRows } from "../../src/nlp/train/corpora.js";
import { splitOf, trainingText } from "../../src/nlp/train/splits.js";

type Row = Record<string, unknown>;
/** The texts of a row, whatever the corpus calls them (STS-B rows hold two). */
const textsOf = (row: Row): string[] =>
  [row.text, row.sentence, row.a, row.b].filter((t): t is string => typeof t === "string");
const matches = (text: string) => containsSlur(featureTokens(text).join(" "));
const count = (rows: readonly Row[]) => {
  const texts = rows.flatMap(textsOf);
  return { texts: texts.length, matched: texts.filter(matches).length };
};
const projectRows = (name: string) =>
  readJsonl<Row>(new URL(`../../src/nlp/data/${name}`, import.meta.url));

const clean: Record<string, { texts: number; matched: number }> = {};
for (const corpus of ["sst2", "stsb", "agnews"] as const satisfies readonly CorpusName[])
  clean[CORPORA[corpus]] = count(corpusRows<Row>(corpus));
for (const name of ["topics.jsonl", "similarity-pairs.jsonl"])
  clean[name] = count(projectRows(name));
const cleanTotal = Object.values(clean).reduce(
  (t, c) => ({ texts: t.texts + c.texts, matched: t.matched + c.matched }),
  { texts: 0, matched: 0 },
);
const writtenHarm = count(projectRows("written-harm.jsonl"));

const davidson: Record<
  string,
  { toxic: number; clean: number; toxicMatched: number; cleanMatched: number }
> = {};
for (const row of corpusRows<Row>("davidson")) {
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
