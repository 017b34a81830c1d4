import type { Db } from "../../db/database.js";
import type { TrendRow } from "../../db/types.js";
import { estimateStepCost } from "../../domain/budget.js";
import type { Logger } from "../../observability/logger.js";
import { trendUpdatedEnvelope } from "../../services/trend-lifecycle.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { BatchHandler, Job, JobHandler } from "../../workers/runtime/stream-consumer.js";
import { loadBatchTrends } from "../batch-trends.js";
import { CallLimiter } from "../call-limiter.js";
import type { PolicySource } from "./active-policy.js";
import { applyAuditSample } from "./audit-sample.js";
import { judge, type JudgePolicy } from "./judge-policy.js";
import { commitReadyBatch, type ReadyWrite } from "./judge-queries.js";
import { judgeInputOf } from "./judge-worker.js";

/**
 * Per-item decisions (escalations, rejections) run this many at a time across the stage's
 * reads: each holds a pooled connection for a dozen round trips.
 */
const DECIDED_ALONE_IN_FLIGHT = 8;

/**
 * The Judge stage, batch at a time: one read's trends loaded in one query, each decided by the
 * active policy (the pure `judge()`), and the items it sends to READY — the common case —
 * written in ONE transaction (commitReadyBatch). What it does not cover goes back to the per-item
 * handler, which writes the rest exactly as before: REJECTED (incident + alert), ESCALATED
 * (escalation with review routing fields, webhook, an earlier override's publish job), audit
 * samples, unknown trends, a second job for one trend, items changed since read or over budget.
 * Given `perItem`, the items decided as other than READY run through it here, a few at a time
 * across the stage's reads and beside the READY commit (the runtime would run a read's leftovers
 * one after another, and escalations were then the stage's bottleneck); one that throws goes
 * back to the runtime, which retries it alone. Its status guards make a second run of a
 * committed item a no-op.
 */
export function createJudgeBatchHandler(deps: {
  db: Db;
  policy: PolicySource;
  logger: Logger;
  auditSampleRate?: number;
  perItem?: JobHandler;
}): BatchHandler {
  const decideAlone = new CallLimiter(DECIDED_ALONE_IN_FLIGHT);
  return async (jobs, signal) => {
    const { alone, loaded } = await loadBatchTrends(deps.db, jobs);
    if (loaded.length === 0) return alone;
    const { version, policy } = await deps.policy.current();
    const pending: { job: Job; write: ReadyWrite }[] = [];
    const decidedOther: Job[] = [];
    for (const { job, trend } of loaded) {
      // Any other status: judged already (a redelivery) or paused; the per-item path acks it too.
      if (trend.status !== "EMBEDDED") continue;
      const judged = judge(judgeInputOf(trend), policy);
      const { decision } = applyAuditSample(judged, trend.id, deps.auditSampleRate ?? 0);
      if (decision.outcome !== "READY") (deps.perItem ? decidedOther : alone).push(job);
      else pending.push({ job, write: readyWrite(trend, decision, policy, version) });
    }
    // The READY items commit while the others run through the per-item handler: a read's
    // escalations (a dozen round trips each) held back its clean items' commit by seconds
    // under load, which made the judge the slowest stage of a 100 items/s load test. Both
    // settle before the read does, so a failed commit hands no job to the runtime twice at once.
    const [others, committed] = await Promise.allSettled([
      deps.perItem ? runEach(decidedOther, deps.perItem, decideAlone, signal) : Promise.resolve([]),
      commitReady(deps.db, pending),
    ]);
    if (committed.status === "rejected") throw committed.reason;
    if (others.status === "rejected") throw others.reason;
    alone.push(...others.value);
    const moved = committed.value;
    for (const p of pending) if (!moved.has(p.write.trendId)) alone.push(p.job);
    if (moved.size)
      deps.logger.debug(
        { items: moved.size, alone: alone.length, policyVersion: version },
        "batch judged",
      );
    return alone;
  };
}

/** Commits the READY writes in one transaction; the ids that moved. */
async function commitReady(
  db: Db,
  pending: readonly { write: ReadyWrite }[],
): Promise<ReadonlySet<string>> {
  if (pending.length === 0) return new Set();
  return db.transaction().execute(async (trx) => {
    const result = await commitReadyBatch(
      trx,
      pending.map((p) => p.write),
    );
    if (result.charged !== result.moved.size)
      throw new Error("a judge step of this batch was charged already");
    return result.moved;
  });
}

/** Runs each job through `handler` under `limiter`; returns the jobs that threw. */
async function runEach(
  jobs: readonly Job[],
  handler: JobHandler,
  limiter: CallLimiter,
  signal: AbortSignal,
): Promise<Job[]> {
  const failed: Job[] = [];
  await Promise.all(
    jobs.map((job) => limiter.run(() => handler(job, signal)).catch(() => failed.push(job))),
  );
  return failed;
}

/** What the per-item handler writes for an item the policy sends to READY. */
function readyWrite(
  trend: TrendRow,
  decision: { outcome: string; rule: string; reason: string },
  policy: JudgePolicy,
  policyVersion: number,
): ReadyWrite {
  const scores = {
    toxicityScore: trend.toxicity_score,
    confidence: trend.confidence,
    sentiment: trend.sentiment_score,
  };
  return {
    trendId: trend.id,
    traceId: trend.trace_id,
    readSpent: trend.budget_spent,
    cost: estimateStepCost("judge", ""),
    provenance: {
      actor: `judge:policy-v${policyVersion}`,
      input: { ...scores, thresholds: policy.thresholds },
      output: {
        outcome: decision.outcome,
        rule: decision.rule,
        reason: decision.reason,
        policyVersion,
      },
    },
    events: [
      {
        stream: STREAMS.trendUpdates,
        envelope: trendUpdatedEnvelope(
          {
            id: trend.id,
            trace_id: trend.trace_id,
            status: "READY",
            embedding_status: trend.embedding_status,
          },
          "EMBEDDED",
          { actor: "judge", reason: decision.reason },
        ),
      },
      {
        stream: STREAMS.publishJobs,
        envelope: makeEnvelope("trend.ready", {
          traceId: trend.trace_id,
          trendId: trend.id,
          payload: { trendId: trend.id, approvalPath: "judge" },
        }),
      },
    ],
  };
}
