/**
 * Real-text campaign (issue 12): the whole Davidson tweet set (22,783 lines of third-party text:
 * emoji, HTML entities, slurs, retweets) through a running Trendgate, then 0 items may be left in
 * RECEIVED … APPROVED.
 *
 *   npx tsx bench/campaigns/real-text.ts [--file ../shared/datasets/davidson-train.jsonl] [--limit N] [--settle-s 1800]
 *
 * Starts `node bin/trendgate.js start` (the system a user runs, all workers in one process) on a
 * free port with its own database tg_bench_<hex> and Redis prefix, posts every line with
 * ingestTrends (batches of 100, BACKPRESSURE honoured), waits for every item to settle, then
 * stops the system with one SIGINT and checks it drained and exited 0. Table on stdout, then one
 * JSON line; exit 1 when an item is left non-terminal, a FAILED item appears, or the exit was not 0.
 * The dataset is read in place, not copied. CI runs 300 lines (test/campaigns/real-text.test.ts).
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";

import { AuthService } from "../../src/services/auth-service.js";
import { createBenchEnv } from "../pipeline/bench-env.js";
import { runRealTextCampaign } from "./real-text-campaign.js";

const { values } = parseArgs({
  options: {
    file: { type: "string", default: "../shared/datasets/davidson-train.jsonl" },
    limit: { type: "string" },
    "settle-s": { type: "string", default: "1800" },
  },
});

const env = await createBenchEnv();
const child = spawn(process.execPath, ["bin/trendgate.js", "start", "--port", "0"], {
  stdio: ["ignore", "pipe", "pipe"],
  env: {
    ...process.env,
    DATABASE_URL: env.config.DATABASE_URL,
    STREAM_PREFIX: env.prefix,
    LOG_LEVEL: "warn",
    BOOTSTRAP_KEYS: "false",
    VECTOR_STORE_PATH: env.config.VECTOR_STORE_PATH,
    PUBLISH_JSONL_PATH: env.config.PUBLISH_JSONL_PATH,
  },
});
let output = "";
child.stderr.on("data", (d: Buffer) => (output += d.toString()));
const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
const url = await new Promise<string>((resolve, reject) => {
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
    const up = /Trendgate is up: (http:\/\/\S+)\/graphql/.exec(output);
    if (up) resolve(up[1]!);
  });
  void exited.then((code) =>
    reject(new Error(`trendgate exited ${code} before it was up:\n${output}`)),
  );
});
let exitCode: number | undefined;
try {
  const { key } = await new AuthService(env.database.db, "").createKey("integrator", "real-text");
  const report = await runRealTextCampaign({
    url,
    key,
    db: env.database.db,
    file: values.file!,
    limit: values.limit ? Number(values.limit) : undefined,
    settleTimeoutMs: Number(values["settle-s"]) * 1000,
    log: (line) => process.stderr.write(`real-text: ${line}\n`),
  });
  child.kill("SIGINT");
  const stopCode = await exited;
  console.log(`\nreal-text campaign: ${report.lines} lines of ${values.file}\n`);
  console.log("| figure | value |\n| --- | --- |");
  for (const [k, v] of Object.entries({
    accepted: report.accepted,
    "refused (BAD_USER_INPUT)": report.refusedAsBadInput,
    "BACKPRESSURE retries": report.backpressureRetries,
    "left non-terminal": report.nonTerminal,
    "ingest s": report.ingestSeconds.toFixed(0),
    "settle s": report.settleSeconds.toFixed(0),
    "exit code after one SIGINT": stopCode,
  }))
    console.log(`| ${k} | ${v} |`);
  console.log("\n| status | items |\n| --- | --- |");
  for (const [s, n] of Object.entries(report.byStatus).sort()) console.log(`| ${s} | ${n} |`);
  for (const [e, n] of Object.entries(report.failures)) console.log(`FAILED ×${n}: ${e}`);
  exitCode =
    report.nonTerminal === 0 && Object.keys(report.failures).length === 0 && stopCode === 0 ? 0 : 1;
  console.log(JSON.stringify({ campaign: "real-text", ...report, stopExitCode: stopCode }));
} finally {
  if (child.exitCode === null) child.kill("SIGKILL");
  await env.close();
}
process.exit(exitCode ?? 1);
