/**
 * What the per-item ledgers cost the no-op pipeline, next to the transport floor (issue 11).
 *
 *   npx tsx bench/pipeline/ledger-cost.ts [--items 10000] [--rounds 3]
 *
 * Each round runs, one after another (so a slow minute of a shared machine hits every arm):
 * - floor: `ingest-to-enriched.ts --only floor` (pipelined XADD, XREADGROUP COUNT 200, one
 *   multi-row INSERT per read, XACK);
 * - noop: `ingest-to-enriched.ts --only noop`, the pipeline as it is, with a no-op enricher;
 * - without ledgers: the same after `git apply bench/pipeline/without-ledgers.patch`, which
 *   removes from the ingest and ETL statements every write that is not the trend row itself or
 *   the ingest job that moves it: the provenance entries (ingest, plan, etl), the budget
 *   charges, the stored plan and the outbox events (trend updates, the embedding job). The
 *   patch is reverted after each run (and on exit); the script refuses to start when those two
 *   files have uncommitted changes.
 * The third arm is not a pipeline anyone may run: it measures how far the pipeline's own
 * bookkeeping, without the guarantees the issue keeps, gets towards the floor.
 * Prints every run, then the medians and spreads; the last line is one JSON object (also in
 * bench/results/ledger-cost.json, with every run). Its runs of ingest-to-enriched.ts overwrite
 * bench/results/ingest-to-enriched.json, as any `--only` run of it does.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { parseArgs } from "node:util";

import { median } from "../tools/median.js";

const { values: args } = parseArgs({
  options: {
    items: { type: "string", default: "10000" },
    rounds: { type: "string", default: "3" },
  },
});
const PATCH = new URL("./without-ledgers.patch", import.meta.url).pathname;
const PATCHED = ["src/pipeline/enrich/enrich-queries.ts", "src/pipeline/ingest/ingest-queries.ts"];
const ROOT = new URL("../../", import.meta.url).pathname;

const git = (...a: string[]) => execFileSync("git", a, { cwd: ROOT, encoding: "utf8" });

if (git("status", "--porcelain", "--", ...PATCHED).trim() !== "") {
  console.error(
    `ledger-cost: ${PATCHED.join(", ")} have uncommitted changes; commit or stash them first`,
  );
  process.exit(2);
}
const revert = () => git("checkout", "--", ...PATCHED);
process.on("exit", revert);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

interface Run {
  itemsPerS: number;
  nodeMs: number;
  postgresMs: number;
  redisMs: number;
}

/** One ingest-to-enriched run of one figure: its rate and its CPU per item. */
function measure(only: "floor" | "noop"): Run {
  const child = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "bench/pipeline/ingest-to-enriched.ts",
      "--items",
      args.items,
      "--only",
      only,
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  const output = `${child.stdout}\n${child.stderr}`;
  const last = child.stdout.trim().split("\n").pop() ?? "";
  const key = only === "floor" ? "floor_items_per_s" : "noop_items_per_s";
  const rate = (JSON.parse(last) as Record<string, number | null>)[key];
  const cpu =
    /CPU per item: node ([\d.]+) ms.*postgres backends ([\d.]+) ms, redis ([\d.]+) ms/.exec(
      // The floor prints its warm-up's CPU first; the measured run's line is the last one.
      output
        .split("\n")
        .filter((l) => l.includes("CPU per item"))
        .pop() ?? "",
    );
  if (child.status !== 0 || typeof rate !== "number" || !cpu)
    throw new Error(`ingest-to-enriched --only ${only} failed:\n${output.slice(-2000)}`);
  return { itemsPerS: rate, nodeMs: +cpu[1]!, postgresMs: +cpu[2]!, redisMs: +cpu[3]! };
}

const arms = ["floor", "noop", "without ledgers"] as const;
const runs: Record<(typeof arms)[number], Run[]> = { floor: [], noop: [], "without ledgers": [] };
const show = (arm: string, r: Run) =>
  console.log(
    `${arm.padEnd(16)} ${String(Math.round(r.itemsPerS)).padStart(6)} items/s   CPU per item: node ${r.nodeMs.toFixed(3)} ms, postgres ${r.postgresMs.toFixed(3)} ms, redis ${r.redisMs.toFixed(3)} ms`,
  );

console.log(
  `ledger cost: ${args.items} items, ${args.rounds} rounds (floor, noop, without ledgers)`,
);
for (let round = 1; round <= Number(args.rounds); round++) {
  console.log(`round ${round}`);
  runs.floor.push(measure("floor"));
  show("  floor", runs.floor.at(-1)!);
  runs.noop.push(measure("noop"));
  show("  noop", runs.noop.at(-1)!);
  git("apply", PATCH);
  try {
    runs["without ledgers"].push(measure("noop"));
  } finally {
    revert();
  }
  show("  without ledgers", runs["without ledgers"].at(-1)!);
}

const spread = (v: number[]) => Math.max(...v) - Math.min(...v);
console.log("\nmedians (spread)");
const result: Record<string, number> = {};
for (const arm of arms) {
  const rates = runs[arm].map((r) => r.itemsPerS);
  const pg = runs[arm].map((r) => r.postgresMs);
  const node = runs[arm].map((r) => r.nodeMs);
  console.log(
    `${arm.padEnd(16)} ${Math.round(median(rates))} items/s (${Math.round(spread(rates))})   node ${median(node).toFixed(3)} ms, postgres ${median(pg).toFixed(3)} ms (${spread(pg).toFixed(3)})`,
  );
}
const ratio = (arm: "noop" | "without ledgers") =>
  runs[arm].map((r, i) => r.itemsPerS / runs.floor[i]!.itemsPerS);
result.floor_items_per_s = Math.round(median(runs.floor.map((r) => r.itemsPerS)));
result.noop_items_per_s = Math.round(median(runs.noop.map((r) => r.itemsPerS)));
result.noop_ratio = +median(ratio("noop")).toFixed(3);
result.without_ledgers_items_per_s = Math.round(
  median(runs["without ledgers"].map((r) => r.itemsPerS)),
);
result.without_ledgers_ratio = +median(ratio("without ledgers")).toFixed(3);
result.noop_postgres_ms_per_item = +median(runs.noop.map((r) => r.postgresMs)).toFixed(3);
result.without_ledgers_postgres_ms_per_item = +median(
  runs["without ledgers"].map((r) => r.postgresMs),
).toFixed(3);
console.log(
  `ratios to the floor (median of rounds): noop ${result.noop_ratio}, without ledgers ${result.without_ledgers_ratio}`,
);
await mkdir(new URL("../results/", import.meta.url), { recursive: true });
await writeFile(
  new URL("../results/ledger-cost.json", import.meta.url),
  `${JSON.stringify({ bench: "pipeline/ledger-cost", at: new Date().toISOString(), node: process.version, cores: cpus().length, items: Number(args.items), runs, medians: result }, null, 2)}\n`,
);
console.log(JSON.stringify(result));
