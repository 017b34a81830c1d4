/**
 * What the Judge does with harm written without a swear word or a slur, and with clean posts a
 * careless matcher would flag: per kind, how many it publishes, escalates or rejects at the
 * default policy (real enrichment, no database).
 *
 *   npx tsx bench/judge/harm-probe.ts [bench/judge/data/harm-probe-3.jsonl ...]
 *
 * The files (`{"text", "label", "kind"}`) were written for the project by engineers who had not
 * seen src/nlp/harm-patterns.ts or the written-harm model's training posts. Probe-1 and probe-2
 * were each looked at once and then used to extend the patterns (their figures are now
 * in-sample); probe-3, the default, was written last and has only been measured
 * (src/nlp/README.md). Davidson tweets, the training data, hold
 * almost no such texts. The last line is JSON.
 */
import { createOfflineEnricher } from "../../src/nlp/enricher.js";
import { readJsonl } from "../../src/nlp/jsonl.js";
import { judgeRows } from "../../src/pipeline/judge/evaluate.js";
import { defaultPolicy } from "../../src/pipeline/judge/judge-policy.js";
import { readLabelledJsonl } from "../../src/pipeline/judge/labelled-rows.js";

interface ProbeRow {
  text: string;
  label: "toxic" | "clean";
  kind: string;
}

const files = process.argv.slice(2);
if (files.length === 0) files.push(new URL("./data/harm-probe-3.jsonl", import.meta.url).pathname);

const enricher = await createOfflineEnricher();
const policy = defaultPolicy();
const summary: Record<
  string,
  { toxic_published_rate: number | null; clean_escalated_rate: number | null }
> = {};
for (const file of files) {
  // Validated as `judge evaluate` validates its labels (a bad line is named); kinds read beside.
  const labelled = await readLabelledJsonl(file);
  const rows = readJsonl<ProbeRow>(file);
  const judged = await judgeRows(labelled, enricher, policy);
  const byKind = new Map<
    string,
    { label: string; n: number; READY: number; ESCALATED: number; REJECTED: number }
  >();
  judged.forEach((j, i) => {
    const row = rows[i]!;
    const key = `${row.label}/${row.kind}`;
    const k = byKind.get(key) ?? { label: row.label, n: 0, READY: 0, ESCALATED: 0, REJECTED: 0 };
    k.n++;
    k[j.decision.outcome]++;
    byKind.set(key, k);
  });
  console.log(`\n${file}: ${rows.length} rows`);
  console.log(
    `${"label/kind".padEnd(28)} ${"items".padStart(5)} ${"published".padStart(9)} ${"escalated".padStart(9)} ${"rejected".padStart(8)}`,
  );
  for (const [key, k] of [...byKind].sort(([a], [b]) => a.localeCompare(b)))
    console.log(
      `${key.padEnd(28)} ${String(k.n).padStart(5)} ${String(k.READY).padStart(9)} ${String(k.ESCALATED).padStart(9)} ${String(k.REJECTED).padStart(8)}`,
    );
  const of = (label: string) => judged.filter((_, i) => rows[i]!.label === label);
  const toxic = of("toxic");
  const clean = of("clean");
  // A file without rows of one label has no rate for it (null), not NaN.
  const share = (part: number, of: number) => (of === 0 ? null : part / of);
  summary[file.split("/").pop()!] = {
    toxic_published_rate: share(
      toxic.filter((j) => j.decision.outcome === "READY").length,
      toxic.length,
    ),
    clean_escalated_rate: share(
      clean.filter((j) => j.decision.outcome !== "READY").length,
      clean.length,
    ),
  };
}
console.log(JSON.stringify(summary));
