/**
 * What one Judge escalation (or rejection) costs to write, per-item handler against the
 * set-based batch (commitEscalationBatch, commitRejectionBatch), in one private database
 * (bench-env.ts):
 *
 *   npx tsx bench/judge/escalation-writes.ts [--reads 10] [--read-size 16] [--rounds 5]
 *       [--decision escalate|reject]
 *
 * First the round trips of one read (queries counted by a Kysely plugin, plus BEGIN/COMMIT per
 * transaction), then `--rounds` rounds alternating old and new, each deciding `--reads` reads
 * of `--read-size` low-confidence (or, with `--decision reject`, over-ceiling toxic) items side
 * by side (as the stage's slots do): node CPU, Postgres backend CPU and wall time per item.
 * Old is the batch handler without `batchDecisions`, which runs each one through the per-item
 * handler, 8 at a time.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";

import type { Db } from "../../src/db/database.js";
import { createLogger } from "../../src/observability/logger.js";
import { ActiveJudgePolicy } from "../../src/pipeline/judge/active-policy.js";
import { createJudgeBatchHandler } from "../../src/pipeline/judge/judge-batch.js";
import { createJudgeHandler } from "../../src/pipeline/judge/judge-worker.js";
import { PolicyProvider } from "../../src/pipeline/judge/policy-provider.js";
import { makeEnvelope } from "../../src/streams/envelope.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import type { BatchHandler, Job } from "../../src/workers/runtime/stream-consumer.js";
import { createBenchEnv, startCpuMeter } from "../pipeline/bench-env.js";

const { values: args } = parseArgs({
  options: {
    reads: { type: "string", default: "10" },
    "read-size": { type: "string", default: "16" },
    rounds: { type: "string", default: "5" },
    decision: { type: "string", default: "escalate" },
  },
});
const READS = Number(args.reads);
const READ_SIZE = Number(args["read-size"]);
const ROUNDS = Number(args.rounds);
const SCORES =
  args.decision === "reject"
    ? { toxicity: 0.999, confidence: 0.95 }
    : { toxicity: 0.05, confidence: 0.2 };
const logger = createLogger("silent");
const signal = new AbortController().signal;

const env = await createBenchEnv();
try {
  let queries = 0;
  let transactions = 0;
  const counted = env.database.db.withPlugin({
    transformQuery: (a) => {
      queries += 1;
      return a.node;
    },
    transformResult: (a) => Promise.resolve(a.result),
  });
  const transaction = counted.transaction.bind(counted);
  const db = Object.assign(counted, {
    transaction: () => {
      transactions += 1;
      return transaction();
    },
  }) as Db;
  const policy = new ActiveJudgePolicy({
    db,
    configured: new PolicyProvider(undefined, { minConfidence: 0.6, maxToxicity: 0.8 }, logger),
    configSource: "bench",
    logger,
    refreshMs: 3_600_000,
  });
  await policy.current();
  const perItem = createJudgeHandler({ db, policy, logger });
  const handlers: [string, BatchHandler][] = [
    ["old", createJudgeBatchHandler({ db, policy, logger, perItem })],
    ["new", createJudgeBatchHandler({ db, policy, logger, perItem, batchDecisions: true })],
  ];

  let entry = 0;
  /** `n` EMBEDDED items the policy escalates (or rejects), and a job for each. */
  async function escalating(n: number): Promise<Job[]> {
    const ids = Array.from({ length: n }, () => randomUUID());
    await env.database.db
      .insertInto("enriched_trends")
      .values(
        ids.map((id) => ({
          id,
          trace_id: randomUUID().replace(/-/g, ""),
          source: "bench",
          body: "Unclear post.",
          normalized_body: "Unclear post.",
          status: "EMBEDDED" as const,
          embedding_status: "SUCCEEDED" as const,
          toxicity_score: SCORES.toxicity,
          confidence: SCORES.confidence,
          budget_limit: 100,
          metadata: "{}",
        })),
      )
      .execute();
    return ids.map((trendId) => ({
      stream: STREAMS.judgeJobs,
      entryId: `1-${++entry}`,
      envelope: makeEnvelope("trend.embedded", {
        traceId: "0".repeat(32),
        trendId,
        payload: { trendId },
      }),
      attempt: 1,
      deliveries: 1,
    }));
  }

  for (const [name, handler] of handlers) {
    const jobs = await escalating(READ_SIZE);
    queries = transactions = 0;
    await handler(jobs, signal);
    console.log(
      `${name}: a read of ${READ_SIZE} (${args.decision}): ${queries} queries + ${2 * transactions} BEGIN/COMMIT`,
    );
  }
  const per = READS * READ_SIZE;
  console.log("round  code  node ms/item  postgres ms/item  wall ms/item");
  for (let round = 1; round <= ROUNDS; round++)
    for (const [name, handler] of handlers) {
      const reads = await Promise.all(Array.from({ length: READS }, () => escalating(READ_SIZE)));
      const cpuUsed = await startCpuMeter(env);
      const t0 = performance.now();
      await Promise.all(reads.map((jobs) => handler(jobs, signal)));
      const wall = performance.now() - t0;
      const { nodeMs, postgresMs } = await cpuUsed();
      console.log(
        [
          round,
          name,
          (nodeMs / per).toFixed(2),
          (postgresMs / per).toFixed(2),
          (wall / per).toFixed(2),
        ].join("\t"),
      );
    }
} finally {
  await env.close();
}
