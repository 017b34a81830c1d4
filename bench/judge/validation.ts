/**
 * The validation figures of issue 13: the Judge at a policy over the validation split of
 * davidson-train.jsonl (fnv1a % 100 < 15: never trained or calibrated on), natural (~86 % toxic)
 * and class-balanced, through `judge evaluate`; and sentiment accuracy on the SST-2 validation
 * split.
 *
 *   npx tsx bench/judge/validation.ts [--policy FILE] [--docs] [--keep DIR]
 *
 * --docs also writes the natural run's charts to docs/judge/ (reliability.svg, workload.svg).
 * --keep DIR keeps the two labelled files (DIR/natural.jsonl, DIR/balanced.jsonl), e.g. for
 * bench/judge/through-system.ts.
 * Prints a table per run and one last JSON line with every figure.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { fnv1a } from "../../src/nlp/features.js";
import { readJsonl } from "../../src/nlp/jsonl.js";
import { SentimentModel } from "../../src/nlp/sentiment.js";
import { splitOf, trainingText } from "../../src/nlp/train/splits.js";
import { runJudgeEvaluate, summary } from "../../src/pipeline/judge/evaluate-command.js";

const { values: args } = parseArgs({
  options: {
    policy: { type: "string" },
    docs: { type: "boolean" },
    keep: { type: "string" },
    davidson: { type: "string" },
    sst2: { type: "string" },
  },
});
const davidson = args.davidson ?? "/work/shared/datasets/davidson-train.jsonl";
const sst2 = args.sst2 ?? "/work/shared/datasets/sst2-train.jsonl";

const rows = readJsonl<{ text: string; label: string }>(davidson).filter(
  (r) => splitOf(trainingText(r.text)) === "validation",
);
const toxic = rows.filter((r) => r.label === "toxic");
const clean = rows.filter((r) => r.label === "clean");
// Balanced: every clean row and as many toxic rows, picked by a second hash (deterministic).
const balanced = [
  ...clean,
  ...[...toxic]
    .sort(
      (a, b) =>
        fnv1a(`balance:${a.text}`) - fnv1a(`balance:${b.text}`) || a.text.localeCompare(b.text),
    )
    .slice(0, clean.length),
];

const dir = args.keep ?? (await mkdtemp(path.join(tmpdir(), "judge-validation-")));
await mkdir(dir, { recursive: true });
const quiet = { stdout: (t: string) => void process.stdout.write(t), stderr: process.stderr };
const figures: Record<string, unknown> = {};
try {
  for (const [name, set] of [
    ["natural", rows],
    ["balanced", balanced],
  ] as const) {
    const file = path.join(dir, `${name}.jsonl`);
    await writeFile(
      file,
      set.map((r) => JSON.stringify({ text: r.text, label: r.label })).join("\n") + "\n",
    );
    console.log(`\n== davidson validation, ${name}: ${set.length} rows ==`);
    const out = path.join(dir, `${name}.json`);
    const e = await runJudgeEvaluate({ labels: file, policy: args.policy, out }, quiet);
    figures[name] = { ...summary(e), rules: undefined };
    if (name === "natural" && args.docs) {
      await copyFile(path.join(dir, "natural.reliability.svg"), "docs/judge/reliability.svg");
      await copyFile(path.join(dir, "natural.workload.svg"), "docs/judge/workload.svg");
      console.log("wrote docs/judge/reliability.svg and docs/judge/workload.svg");
    }
  }
} finally {
  if (!args.keep) await rm(dir, { recursive: true, force: true });
}

const sentiment = SentimentModel.load();
const sstValidation = readJsonl<{ text: string; label: string }>(sst2).filter(
  (r) => splitOf(r.text.trim()) === "validation",
);
const correct = sstValidation.filter(
  (r) => sentiment.score(r.text).probability >= 0.5 === (r.label === "positive"),
).length;
const accuracy = correct / sstValidation.length;
console.log(
  `\n== sst2 validation: ${sstValidation.length} rows ==\nsentiment accuracy ${accuracy.toFixed(4)}`,
);
figures.sentiment = { items: sstValidation.length, accuracy };
console.log(JSON.stringify(figures));
