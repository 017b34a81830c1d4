/**
 * Trim campaign (issue 12): the judge stalls while multiple × STREAM_MAX_LEN items flow, the
 * maintenance worker trims every sweep, some judge jobs are lost (deleted, as a Redis crash in
 * the AOF fsync window loses them), then the judge comes back: 0 items may be stranded, and the
 * reconciler's repairs must equal the lost jobs.
 *
 *   npx tsx bench/campaigns/trim.ts [--max-len 1000] [--multiple 3] [--lost 20] [--real-embedder]
 *
 * In-process app (two: upstream stages + maintenance, then judge + publisher), own database
 * (tg_bench_*) and Redis prefix, dropped at the end. The embedder is a 16-d hash unless
 * --real-embedder (the campaign is about streams). Table on stdout, then one JSON line; exit 1
 * when an item is stranded or a judge job was trimmed. CI runs 3 × 100 (test/campaigns/trim.test.ts).
 */
import { parseArgs } from "node:util";

import { createBenchEnv } from "../pipeline/bench-env.js";
import { hashEmbedder, runTrimCampaign } from "./trim-campaign.js";

const { values } = parseArgs({
  options: {
    "max-len": { type: "string", default: "1000" },
    multiple: { type: "string", default: "3" },
    lost: { type: "string", default: "20" },
    "real-embedder": { type: "boolean", default: false },
  },
});
const env = await createBenchEnv({
  STREAM_MAX_LEN: Number(values["max-len"]),
  SWEEP_INTERVAL_MS: 500,
  OUTBOX_POLL_MS: 50,
  WORKER_BLOCK_MS: 200,
  CLAIM_IDLE_MS: 2000,
  RECONCILE_AFTER_MS: 5000,
  INGEST_HIGH_WATER_MARK: 1_000_000,
  STAGE_HIGH_WATER_MARK: 1_000_000,
});
let exitCode: number | undefined;
try {
  const report = await runTrimCampaign({
    config: env.config,
    db: env.database.db,
    redis: env.redis,
    keys: env.keys,
    multiple: Number(values.multiple),
    lostEvents: Number(values.lost),
    overrides: values["real-embedder"] ? {} : { embedder: hashEmbedder },
    log: (line) => process.stderr.write(`trim: ${line}\n`),
  });
  console.log(
    `\ntrim campaign: ${report.items} items, STREAM_MAX_LEN ${report.streamMaxLen}, ${report.seconds.toFixed(0)} s\n`,
  );
  console.log("| figure | value |\n| --- | --- |");
  console.log(
    `| judge stream while stalled | ${report.judgeStreamWhileStalled} (of ${report.items}) |`,
  );
  for (const [s, n] of Object.entries(report.trimmed)) console.log(`| trimmed from ${s} | ${n} |`);
  console.log(`| judge jobs lost | ${report.lostEvents} |`);
  console.log(`| reconciler repairs | ${JSON.stringify(report.reconcilerRepairs)} |`);
  console.log(`| stranded | ${report.stranded} |`);
  console.log(`| by status | ${JSON.stringify(report.byStatus)} |`);
  exitCode = report.stranded === 0 && report.judgeStreamWhileStalled === report.items ? 0 : 1;
  console.log(JSON.stringify({ campaign: "trim", ...report }));
} finally {
  await env.close();
}
process.exit(exitCode ?? 1);
