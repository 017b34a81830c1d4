import type { Db } from "../../db/database.js";
import { enqueueOutbox } from "../../db/outbox.js";
import { appendProvenance } from "../../db/provenance.js";
import type { Enricher } from "../../nlp/enricher.js";
import type { Logger } from "../../observability/logger.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { JobHandler } from "../../workers/runtime/stream-consumer.js";
import { jobLogger, loadJobTrend } from "../../workers/stage-support.js";
import { chargeOrPause } from "../budget-service.js";
import { planTrend } from "../plan/planner.js";
import { transitionTrend } from "../trend-lifecycle.js";
import { computeEnrichment, enrichedColumns, etlProvenance } from "./enrichment-record.js";

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
    const computed = await computeEnrichment(deps.enricher, trend);
    const { enrichment, cost } = computed;

    const committed = await deps.db.transaction().execute(async (trx) => {
      // Planning and enrichment commit together: one transaction per item, not two.
      if (trend.status === "RECEIVED") {
        const plan = await planTrend(trx, trend, deps.logger);
        if (!plan) return false;
        log = log.child({ planner_intent: plan.intent });
      }
      if ((await chargeOrPause(trx, trend, "etl", cost, log)) === "paused") return false;
      const moved = await transitionTrend(
        trx,
        trend.id,
        ["PLANNED"],
        "ENRICHED",
        enrichedColumns(enrichment),
        {
          actor: "worker:etl",
          reason: "enriched",
        },
      );
      if (!moved) return false;
      await appendProvenance(trx, etlProvenance(trend, computed));
      await enqueueOutbox(
        trx,
        STREAMS.embeddingJobs,
        makeEnvelope("trend.enriched", {
          traceId: trend.trace_id,
          trendId: trend.id,
          payload: { trendId: trend.id },
        }),
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
