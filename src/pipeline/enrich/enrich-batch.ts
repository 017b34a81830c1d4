import type { Span } from "@opentelemetry/api";
import { SpanKind } from "@opentelemetry/api";

import type { Db } from "../../db/database.js";
import type { TrendRow } from "../../db/types.js";
import { estimateStepCost } from "../../domain/budget.js";
import type { Enricher } from "../../nlp/enricher.js";
import type { Logger } from "../../observability/logger.js";
import {
  endSpan,
  startChildSpan,
  startItemSpan,
  traceparentOf,
} from "../../observability/tracing.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { BatchHandler, Job } from "../../workers/runtime/stream-consumer.js";
import { loadBatchTrends } from "../batch-trends.js";
import { type Plan, planItem } from "../plan/plan.js";
import { planProvenance } from "../plan/plan-queries.js";
import { trendUpdatedEnvelope } from "../trend-lifecycle.js";
import { commitEnrichedBatch, type EnrichedWrite } from "./enrich-queries.js";
import { type ComputedEnrichment, computeEnrichments, etlProvenance } from "./enrichment-record.js";

interface Work {
  job: Job;
  trend: TrendRow;
  computed: ComputedEnrichment;
  plan: Plan | undefined;
  planCost: number;
  span: Span;
}

/**
 * The ETL stage, batch at a time: one read's items are loaded in one query, enriched outside
 * any transaction, then planned and enriched in ONE transaction of set-based writes (charges,
 * one UPDATE … FROM unnest, plans, provenance and the outbox events each as one statement).
 * What the fast path does not cover goes back to the runtime to run alone through the
 * per-item handler: jobs naming no known trend (dead letters), items whose budget does not
 * cover the step (they pause), items whose enrichment threw (they retry), and a second job for
 * a trend already in the batch. The writes are guarded like the per-item path's: a trend no
 * longer RECEIVED/PLANNED is skipped, so a redelivered batch changes nothing.
 */
export function createEnrichBatchHandler(deps: {
  db: Db;
  enricher: Enricher;
  logger: Logger;
}): BatchHandler {
  return async (jobs) => {
    const { alone, loaded } = await loadBatchTrends(deps.db, jobs);
    if (loaded.length === 0) return alone;
    const pending: { job: Job; trend: TrendRow; span: Span }[] = [];
    for (const { id, job, trend } of loaded) {
      if (trend.status === "RECEIVED" || trend.status === "PLANNED") {
        const span = startItemSpan(
          "etl",
          job.envelope,
          {
            "trendgate.stage": "etl",
            "trendgate.trend_id": id,
            "messaging.message.id": job.entryId,
            "trendgate.attempt": job.attempt,
            "trendgate.batch": jobs.length,
          },
          SpanKind.CONSUMER,
        );
        pending.push({ job, trend, span });
      }
      // Any other status: the step is done already (a redelivery); nothing to write.
    }
    let computed: (ComputedEnrichment | Error)[];
    try {
      computed = await computeEnrichments(
        deps.enricher,
        pending.map((p) => p.trend),
      );
    } catch (error) {
      for (const p of pending) endSpan(p.span, error);
      throw error;
    }
    const work: Work[] = [];
    pending.forEach(({ job, trend, span }, i) => {
      const c = computed[i]!;
      if (c instanceof Error) {
        endSpan(span, c);
        alone.push(job);
        return;
      }
      try {
        const plan = trend.status === "RECEIVED" ? planItem(trend, trend.budget_limit) : undefined;
        const planCost = plan ? estimateStepCost("plan", `${trend.title ?? ""} ${trend.body}`) : 0;
        work.push({ job, trend, computed: c, plan, planCost, span });
      } catch (error) {
        endSpan(span, error);
        alone.push(job);
      }
    });
    if (work.length === 0) return alone;

    let committed: Set<Work>;
    try {
      committed = await deps.db.transaction().execute(async (trx) => {
        const { moved, charged } = await commitEnrichedBatch(trx, work.map(toWrite));
        const fits = work.filter((w) => moved.has(w.trend.id));
        if (charged !== fits.reduce((n, w) => n + (w.plan ? 2 : 1), 0))
          throw new Error("a step of this batch was charged already");
        return new Set(fits);
      });
    } catch (error) {
      for (const w of work) endSpan(w.span, error);
      throw error;
    }
    // Changed since read (another consumer, a moderator) or over budget: the per-item path decides.
    for (const w of work) if (!committed.has(w)) alone.push(w.job);
    for (const w of work) {
      if (!committed.has(w)) {
        endSpan(w.span);
        continue;
      }
      if (w.plan) endSpan(startChildSpan(w.span, "plan", { "trendgate.trend_id": w.trend.id }));
      endSpan(w.span);
    }
    if (committed.size)
      deps.logger.debug({ items: committed.size, alone: alone.length }, "batch enriched");
    return alone;
  };
}

/** What one item's plan + etl commit writes (see commitEnrichedBatch). */
function toWrite(w: Work): EnrichedWrite {
  return {
    trendId: w.trend.id,
    traceId: w.trend.trace_id,
    readStatus: w.trend.status,
    readSpent: w.trend.budget_spent,
    enrichment: w.computed.enrichment,
    etlCost: w.computed.cost,
    plan: w.plan && {
      intent: w.plan.intent,
      steps: w.plan.steps,
      budget: w.plan.budget,
      planner: w.plan.planner,
      cost: w.planCost,
      provenance: planProvenance(w.trend, w.plan),
    },
    etlProvenance: etlProvenance(w.trend, w.computed),
    events: events(w),
  };
}

/**
 * The events one item's plan + etl commit announces, in the order the per-item path writes them.
 * The updates' embeddingStatus is set from the row as written (setEmbeddingStatus).
 */
function events(w: Work): EnrichedWrite["events"] {
  const traceparent = traceparentOf(w.span);
  const after = {
    id: w.trend.id,
    trace_id: w.trend.trace_id,
    embedding_status: w.trend.embedding_status,
  };
  const out: EnrichedWrite["events"] = [];
  if (w.plan) {
    out.push({
      stream: STREAMS.trendUpdates,
      envelope: trendUpdatedEnvelope({ ...after, status: "PLANNED" }, "RECEIVED", {
        actor: "planner",
        reason: "planned",
        traceparent,
      }),
      setEmbeddingStatus: true,
    });
  }
  out.push({
    stream: STREAMS.trendUpdates,
    envelope: trendUpdatedEnvelope({ ...after, status: "ENRICHED" }, "PLANNED", {
      actor: "worker:etl",
      reason: "enriched",
      traceparent,
    }),
    setEmbeddingStatus: true,
  });
  out.push({
    stream: STREAMS.embeddingJobs,
    envelope: makeEnvelope("trend.enriched", {
      traceId: w.trend.trace_id,
      trendId: w.trend.id,
      traceparent,
      payload: { trendId: w.trend.id },
    }),
    setEmbeddingStatus: false,
  });
  return out;
}
