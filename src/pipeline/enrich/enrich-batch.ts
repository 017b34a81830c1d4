import type { Span } from "@opentelemetry/api";
import { SpanKind } from "@opentelemetry/api";
import type { Db } from "../../db/database.js";
import { enqueueOutboxMany } from "../../db/outbox.js";
import { appendProvenanceMany, type ProvenanceInput } from "../../db/provenance.js";
import type { TrendRow } from "../../db/types.js";
import { estimateStepCost } from "../../domain/budget.js";
import type { Enricher } from "../../nlp/enricher.js";
import type { Logger } from "../../observability/logger.js";
import { endSpan, startChildSpan, startItemSpan, traceparentOf } from "../../observability/tracing.js";
import { trendUpdatedEnvelope } from "../../services/trend-lifecycle.js";
import type { Envelope } from "../../streams/envelope.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { BatchHandler, Job } from "../../workers/runtime/stream-consumer.js";
import { planItem, type Plan } from "../plan/plan.js";
import { insertPlannerIntents, planProvenance } from "../plan/plan-queries.js";
import { claimCharges, type EnrichedRow, lockTrends, writeEnrichments } from "./enrich-queries.js";
import { type ComputedEnrichment, computeEnrichments, etlProvenance } from "./enrichment-record.js";

const UUID = /^[0-9a-f-]{36}$/i;

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
export function createEnrichBatchHandler(deps: { db: Db; enricher: Enricher; logger: Logger }): BatchHandler {
  return async (jobs) => {
    const alone: Job[] = [];
    const byId = new Map<string, Job>();
    for (const job of jobs) {
      const id = job.envelope.trendId ?? job.envelope.payload.trendId;
      if (typeof id !== "string" || !UUID.test(id) || byId.has(id)) alone.push(job);
      else byId.set(id, job);
    }
    if (byId.size === 0) return alone;
    const trends = await deps.db.selectFrom("enriched_trends").selectAll().where("id", "in", [...byId.keys()]).execute();
    const found = new Map(trends.map((t) => [t.id, t]));
    const pending: { job: Job; trend: TrendRow; span: Span }[] = [];
    for (const [id, job] of byId) {
      const trend = found.get(id);
      if (!trend) alone.push(job);
      else if (trend.status === "RECEIVED" || trend.status === "PLANNED") {
        const span = startItemSpan("etl", job.envelope, { "trendgate.stage": "etl", "trendgate.trend_id": id, "messaging.message.id": job.entryId, "trendgate.attempt": job.attempt, "trendgate.batch": jobs.length }, SpanKind.CONSUMER);
        pending.push({ job, trend, span });
      }
      // Any other status: the step is done already (a redelivery); nothing to write.
    }
    let computed: (ComputedEnrichment | Error)[];
    try {
      computed = await computeEnrichments(deps.enricher, pending.map((p) => p.trend));
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

    let committed: Work[];
    try {
      committed = await deps.db.transaction().execute(async (trx) => {
        const locked = await lockTrends(trx, work.map((w) => w.trend.id));
        const fits: Work[] = [];
        for (const w of work) {
          const now = locked.get(w.trend.id);
          // Changed since it was read (another consumer, a moderator): the per-item path decides.
          if (!now || now.status !== w.trend.status || now.budget_spent !== w.trend.budget_spent) alone.push(w.job);
          else if (now.budget_spent + w.planCost + w.computed.cost > now.budget_limit + 1e-9) alone.push(w.job);
          else fits.push(w);
        }
        if (fits.length === 0) return [];
        const charges = fits.flatMap((w) => [
          ...(w.plan ? [{ trendId: w.trend.id, step: "plan", cost: w.planCost }] : []),
          { trendId: w.trend.id, step: "etl", cost: w.computed.cost },
        ]);
        if ((await claimCharges(trx, charges)) !== charges.length) throw new Error("a step of this batch was charged already");
        const moved = await writeEnrichments(
          trx,
          fits.map((w) => ({ trendId: w.trend.id, spend: w.planCost + w.computed.cost, enrichment: w.computed.enrichment })),
        );
        if (moved.length !== fits.length) throw new Error("a trend of this batch changed status under its lock");
        const after = new Map(moved.map((t) => [t.id, t]));
        const planned = fits.filter((w) => w.plan);
        await insertPlannerIntents(trx, planned.map((w) => ({ trend: w.trend, plan: w.plan! })));
        const planEntries = await appendProvenanceMany(trx, planned.map((w) => planProvenance(w.trend, w.plan!)));
        const planEntryOf = new Map(planEntries.map((e) => [e.trend_id, e.id]));
        await appendProvenanceMany(
          trx,
          fits.map((w): ProvenanceInput => ({ ...etlProvenance(w.trend, w.computed), ...(w.plan ? { parentId: planEntryOf.get(w.trend.id) } : {}) })),
        );
        await enqueueOutboxMany(trx, fits.flatMap((w) => events(w, after.get(w.trend.id)!)));
        return fits;
      });
    } catch (error) {
      for (const w of work) endSpan(w.span, error);
      throw error;
    }
    for (const w of work) {
      if (!committed.includes(w)) {
        endSpan(w.span);
        continue;
      }
      if (w.plan) endSpan(startChildSpan(w.span, "plan", { "trendgate.trend_id": w.trend.id }));
      endSpan(w.span);
    }
    if (committed.length) deps.logger.debug({ items: committed.length, alone: alone.length }, "batch enriched");
    return alone;
  };
}

/** The events one item's plan + etl commit announces, in the order the per-item path writes them. */
function events(w: Work, after: EnrichedRow): { stream: string; envelope: Envelope }[] {
  const traceparent = traceparentOf(w.span);
  const out: { stream: string; envelope: Envelope }[] = [];
  if (w.plan) {
    out.push({
      stream: STREAMS.trendUpdates,
      envelope: trendUpdatedEnvelope({ ...after, status: "PLANNED" }, "RECEIVED", { actor: "planner", reason: "planned", traceparent }),
    });
  }
  out.push({
    stream: STREAMS.trendUpdates,
    envelope: trendUpdatedEnvelope(after, "PLANNED", { actor: "worker:etl", reason: "enriched", traceparent }),
  });
  out.push({
    stream: STREAMS.embeddingJobs,
    envelope: makeEnvelope("trend.enriched", { traceId: w.trend.trace_id, trendId: w.trend.id, traceparent, payload: { trendId: w.trend.id } }),
  });
  return out;
}
