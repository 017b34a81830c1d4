/**
 * Fuzz campaign (issue 12): every query and mutation of the built schema with schema-driven
 * fast-check arguments — lone surrogates, U+0000, bidi controls, zero-width characters, emoji
 * sequences, 50k-character strings, numbers at and past their limits, wrong types, missing
 * required fields — over HTTP against a whole Trendgate (gateway + every worker, in-process).
 *
 *   npx tsx bench/campaigns/fuzz.ts [--cases 10000] [--seed 12] [--settle-s 300]
 *
 * Fails (exit 1) on any INTERNAL_SERVER_ERROR or 5xx, on an ingest that answered with an error
 * but wrote trends (a partial write), and on any accepted item still in RECEIVED … APPROVED
 * after --settle-s. CI runs the same code at 300 cases (test/campaigns/fuzz.test.ts). Own
 * database (tg_bench_*) and Redis prefix, dropped at the end. Table on stdout, then one JSON line.
 */
import { parseArgs } from "node:util";

import { startApp, WORKER_NAMES } from "../../src/main.js";
import { createBenchEnv } from "../pipeline/bench-env.js";
import { runFuzzCampaign } from "./fuzz-campaign.js";

const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "10000" },
    seed: { type: "string", default: "12" },
    "settle-s": { type: "string", default: "300" },
  },
});
const cases = Number(values.cases);
const seed = Number(values.seed);

const env = await createBenchEnv({
  OUTBOX_POLL_MS: 50,
  SWEEP_INTERVAL_MS: 1000,
  RECONCILE_AFTER_MS: 30_000,
});
const app = await startApp(env.config, { gateway: true, workers: WORKER_NAMES, port: 0 });
let exitCode: number | undefined;
try {
  const { key } = await app.services.auth.createKey("operator", "fuzz");
  const started = Date.now();
  const report = await runFuzzCampaign({
    url: app.gateway!.url,
    key,
    db: env.database.db,
    cases,
    seed,
    settleTimeoutMs: Number(values["settle-s"]) * 1000,
    onProgress: (done, total) => {
      if (done % 500 === 0) process.stderr.write(`fuzz: ${done}/${total}\n`);
    },
  });
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `\nfuzz campaign: ${report.cases} cases over ${report.operations} operations, seed ${seed}, ${seconds.toFixed(0)} s\n`,
  );
  console.log("| outcome | responses |\n| --- | --- |");
  for (const [code, n] of Object.entries(report.outcomes).sort((a, b) => b[1] - a[1]))
    console.log(`| ${code} | ${n} |`);
  console.log("\n| operation | cases |\n| --- | --- |");
  for (const [op, n] of Object.entries(report.perOperation).sort()) console.log(`| ${op} | ${n} |`);
  console.log(
    `\naccepted items ${report.acceptedItems}; unsettled ${report.unsettled.length}; failures ${report.failures.length}`,
  );
  // The first three of each kind and operation, so a rare failure is not hidden by a common one.
  const shown = new Map<string, number>();
  for (const f of report.failures) {
    const key = `${f.kind} ${f.operation}`;
    if ((shown.get(key) ?? 0) >= 3) continue;
    shown.set(key, (shown.get(key) ?? 0) + 1);
    console.log(`  ${key}: ${f.detail}\n    variables ${f.variables}`);
  }
  exitCode = report.failures.length === 0 && report.unsettled.length === 0 ? 0 : 1;
  console.log(
    JSON.stringify({
      campaign: "fuzz",
      cases: report.cases,
      seed,
      seconds,
      operations: report.operations,
      outcomes: report.outcomes,
      acceptedItems: report.acceptedItems,
      unsettled: report.unsettled.length,
      failures: report.failures.length,
    }),
  );
} finally {
  await app.stop();
  await env.close();
}
process.exit(exitCode ?? 1);
