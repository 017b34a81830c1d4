/**
 * How much ordinary clean text the Judge sends to a human: the default policy over held-out
 * prose (src/nlp/train/clean-prose.ts, validation rows): SST-2 movie-review sentences, STS-B
 * sentences and AG News items, real enrichment, no database. Every row is clean, so every
 * escalation or rejection is workload or harm to an innocent post.
 *
 *   npx tsx bench/judge/clean-prose.ts [--limit 1000]
 *
 * Prints per corpus how many items each rule decided, and last one JSON line of the escalated
 * and clean-rejected rates (`judge evaluate`'s `rates`).
 */
import { parseArgs } from "node:util";

import { createOfflineEnricher } from "../../src/nlp/enricher.js";
import { cleanProse, type ProseCorpus } from "../../src/nlp/train/clean-prose.js";
import { judgeRows, rates } from "../../src/pipeline/judge/evaluate.js";
import { defaultPolicy } from "../../src/pipeline/judge/judge-policy.js";

const { values: args } = parseArgs({ options: { limit: { type: "string", default: "1000" } } });
const limit = Number(args.limit);
if (!Number.isInteger(limit) || limit <= 0) {
  console.error(`--limit must be a positive integer, got ${args.limit}`);
  process.exit(2);
}

const enricher = await createOfflineEnricher();
const policy = defaultPolicy();
const summary: Record<
  string,
  { items: number; escalated_rate: number; clean_rejected_rate: number }
> = {};
console.log(`${"corpus".padEnd(8)} ${"items".padStart(5)}  rules`);
for (const corpus of ["sst2", "stsb", "agnews"] as const satisfies readonly ProseCorpus[]) {
  const rows = cleanProse(corpus, "validation")
    .slice(0, limit)
    .map((text, i) => ({ text, label: "clean" as const, line: i + 1 }));
  const judged = await judgeRows(rows, enricher, policy);
  const byRule = new Map<string, number>();
  for (const j of judged) byRule.set(j.decision.rule, (byRule.get(j.decision.rule) ?? 0) + 1);
  const figures = rates(judged);
  summary[corpus] = {
    items: figures.items,
    escalated_rate: round4(figures.escalated_rate),
    clean_rejected_rate: round4(figures.clean_rejected_rate),
  };
  console.log(
    `${corpus.padEnd(8)} ${String(judged.length).padStart(5)}  ${[...byRule]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([rule, n]) => `${rule} ${n}`)
      .join(", ")}`,
  );
}
await enricher.close?.();
console.log(JSON.stringify(summary));

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
