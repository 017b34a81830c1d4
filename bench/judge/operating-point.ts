/**
 * A (toxicityCeiling, minConfidence) grid on the CALIBRATION split of davidson-train.jsonl
 * (fnv1a % 100 in 15–29; the validation split is not read), judged with the real enrichment and
 * judge(), natural and class-balanced. Prints the grid and the cheapest pair (least balanced
 * escalation) whose leak and wrongful-rejection rates both stay within the target; the last
 * line is JSON. Since toxicity-v3 the classifiers are cross-fitted on train + calibration, so
 * this grid is in-sample (optimistic): the defaults come from the out-of-fold grid that
 * src/nlp/train/train-toxicity.ts prints.
 *
 *   npx tsx bench/judge/operating-point.ts [--target 0.01]
 */
import { parseArgs } from "node:util";

import { createOfflineEnricher } from "../../src/nlp/enricher.js";
import { readJsonl } from "../../src/nlp/jsonl.js";
import { splitOf, trainingText } from "../../src/nlp/train/splits.js";
import { type JudgedRow, judgeRows, rates } from "../../src/pipeline/judge/evaluate.js";
import { defaultPolicy, judge, type JudgePolicy } from "../../src/pipeline/judge/judge-policy.js";

const { values: args } = parseArgs({
  options: { target: { type: "string" }, davidson: { type: "string" } },
});
const target = Number(args.target ?? 0.01);
const rows = readJsonl<{ text: string; label: "toxic" | "clean" }>(
  args.davidson ?? "/work/shared/datasets/davidson-train.jsonl",
)
  .filter((r) => splitOf(trainingText(r.text)) === "calibration")
  .map((r, i) => ({ text: r.text, label: r.label, line: i + 1 }));
const enricher = await createOfflineEnricher();
const judged = await judgeRows(rows, enricher, defaultPolicy());
const toxicCount = judged.filter((r) => r.label === "toxic").length;
const cleanCount = judged.length - toxicCount;

function at(policy: JudgePolicy, set: readonly JudgedRow[]) {
  return rates(
    set.map((r) => ({
      label: r.label,
      decision: judge(
        {
          source: "evaluate",
          title: null,
          body: r.text,
          toxicityScore: r.toxicityScore,
          confidence: r.confidence,
        },
        policy,
      ),
    })),
  );
}

const base = defaultPolicy();
const grid: {
  ceiling: number;
  minConfidence: number;
  toxPub: number;
  cleanRej: number;
  esc: number;
  escBalanced: number;
}[] = [];
for (const ceiling of [0.95, 0.97, 0.98, 0.985, 0.99, 0.993, 0.995]) {
  for (const minConfidence of [0.6, 0.7, 0.75, 0.8, 0.85, 0.9]) {
    const policy: JudgePolicy = {
      ...base,
      thresholds: { ...base.thresholds, minConfidence, toxicityCeiling: ceiling },
    };
    const r = at(policy, judged);
    // Balanced: each class weighs half, whatever its count.
    const toxicEscalated = at(
      policy,
      judged.filter((x) => x.label === "toxic"),
    ).escalated_rate;
    const cleanEscalated = at(
      policy,
      judged.filter((x) => x.label === "clean"),
    ).escalated_rate;
    grid.push({
      ceiling,
      minConfidence,
      toxPub: r.toxic_published_rate,
      cleanRej: r.clean_rejected_rate,
      esc: r.escalated_rate,
      escBalanced: (toxicEscalated + cleanEscalated) / 2,
    });
  }
}
console.log(
  `calibration split: ${judged.length} tweets (${toxicCount} toxic, ${cleanCount} clean); target ${target}`,
);
console.log("ceiling  minConf  toxic_pub  clean_rej  escalated  escalated_balanced");
for (const g of grid)
  console.log(
    `${String(g.ceiling).padEnd(8)} ${String(g.minConfidence).padEnd(8)} ${g.toxPub.toFixed(4).padStart(9)} ${g.cleanRej.toFixed(4).padStart(10)} ${g.esc.toFixed(4).padStart(10)} ${g.escBalanced.toFixed(4).padStart(19)}`,
  );
const feasible = grid
  .filter((g) => g.toxPub <= target && g.cleanRej <= target)
  .sort((a, b) => a.escBalanced - b.escBalanced);
const at06 = grid
  .filter((g) => g.minConfidence === 0.6 && g.cleanRej <= target)
  .sort((a, b) => a.escBalanced - b.escBalanced);
console.log(`cheapest pair within the target: ${JSON.stringify(feasible[0] ?? null)}`);
console.log(
  `cheapest ceiling at minConfidence 0.6 with clean_rej within the target: ${JSON.stringify(at06[0] ?? null)}`,
);
console.log(
  JSON.stringify({
    split: "calibration",
    items: judged.length,
    target,
    best: feasible[0] ?? null,
    atMinConfidence06: at06[0] ?? null,
  }),
);
