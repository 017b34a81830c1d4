import { enqueueOutbox } from "../../db/outbox.js";
import { appendProvenance } from "../../db/provenance.js";
import type { Db } from "../../db/database.js";
import { estimateStepCost } from "../../domain/budget.js";
import type { Enricher } from "../../nlp/enricher.js";
import type { Logger } from "../../observability/logger.js";
import { chargeOrPause } from "../../services/budget-service.js";
import { transitionTrend } from "../../services/trend-lifecycle.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { JobHandler } from "../../workers/runtime/stream-consumer.js";
import { planTrend } from "../plan/planner.js";
import { jobLogger, loadJobTrend } from "../../workers/stage-support.js";

/**
 * The ETL stage (`trend:ingest:stream`, group etl): plans the item if it has no plan, then
 * enriches it and writes the EnrichedTrend fields, the provenance entries and the embedding job
 * (outbox) in one transaction. Each part is guarded by the trend's status, so running the same
 * entry twice changes nothing.
 */
export function createEtlHandler(deps: { db: Db; enricher: Enricher; logger: Logger }): JobHandler {
  return async (job) => {
    const trend = await loadJobTrend(deps.db, job);
    if (trend.status !== "RECEIVED" && trend.status !== "PLANNED") return;

    let log = await jobLogger(deps.db, deps.logger, trend);
    // The model runs outside the transaction: it is pure CPU and deterministic, so a retry
    // computes the same result, and no row lock is held while it runs.
    const started = performance.now();
    const enrichment = await deps.enricher.enrich({
      source: trend.source,
      title: trend.title,
      body: trend.body,
      url: trend.url,
    });
    const elapsedMs = performance.now() - started;

    const committed = await deps.db.transaction().execute(async (trx) => {
      // Planning and enrichment commit together: one transaction per item, not two.
      if (trend.status === "RECEIVED") {
        const plan = await planTrend(trx, trend, deps.logger);
        if (!plan) return false;
        log = log.child({ planner_intent: plan.intent });
      }
      const cost = estimateStepCost("etl", `${trend.title ?? ""} ${trend.body}`);
      if ((await chargeOrPause(trx, trend, "etl", cost, log)) === "paused") return false;
      const moved = await transitionTrend(
        trx,
        trend.id,
        ["PLANNED"],
        "ENRICHED",
        {
          normalized_body: enrichment.normalizedBody,
          language: enrichment.language,
          sentiment_score: enrichment.sentiment.score,
          sentiment_label: enrichment.sentiment.label,
          topics: enrichment.topics,
          toxicity_score: enrichment.toxicityScore,
          confidence: enrichment.confidence,
          summary: enrichment.summary,
          enrichment: JSON.stringify({
            keywords: enrichment.keywords,
            languageConfidence: enrichment.languageConfidence,
            signals: enrichment.signals,
            model: enrichment.model,
          }),
        },
        { actor: "worker:etl", reason: "enriched" },
      );
      if (!moved) return false;
      await appendProvenance(trx, {
        traceId: trend.trace_id,
        trendId: trend.id,
        step: "etl",
        actor: `worker:etl:${enrichment.model}`,
        input: { bodyChars: trend.body.length, prompt: enrichment.prompt },
        output: {
          language: enrichment.language,
          sentiment: enrichment.sentiment,
          topics: enrichment.topics,
          toxicityScore: enrichment.toxicityScore,
          confidence: enrichment.confidence,
          summary: enrichment.summary,
          signals: enrichment.signals,
          cost,
          elapsedMs: Math.round(elapsedMs * 10) / 10,
        },
      });
      await enqueueOutbox(
        trx,
        STREAMS.embeddingJobs,
        makeEnvelope("trend.enriched", { traceId: trend.trace_id, trendId: trend.id, payload: { trendId: trend.id } }),
      );
      return true;
    });
    if (committed) {
      log.info(
        {
          worker_output_prompt: enrichment.prompt,
          language: enrichment.language,
          toxicity: enrichment.toxicityScore,
          confidence: enrichment.confidence,
          topics: enrichment.topics,
        },
        "item enriched",
      );
    }
  };
}
