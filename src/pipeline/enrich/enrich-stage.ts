import { changedFields, noOpPreview, type StageModule } from "../stage.js";
import { createEnrichBatchHandler } from "./enrich-batch.js";
import { computeEnrichment } from "./enrichment-record.js";
import { createEtlHandler } from "./etl-worker.js";

export const enrichStage: StageModule = {
  async start(deps) {
    const enricher = await deps.enricher();
    return {
      handler: createEtlHandler({ db: deps.db, enricher, logger: deps.logger }),
      batchHandler: createEnrichBatchHandler({ db: deps.db, enricher, logger: deps.logger }),
      // A read is one transaction, not one per entry: room for two full reads in flight, so
      // one batch computes while the other commits.
      concurrency: Math.max(deps.config.WORKER_CONCURRENCY, 2 * deps.config.WORKER_BATCH_SIZE),
    };
  },

  async preview(deps, trend) {
    if (trend.status !== "RECEIVED" && trend.status !== "PLANNED") return noOpPreview(trend);
    const { enrichment: e } = await computeEnrichment(await deps.enricher(), trend);
    return {
      outcome: "would_succeed",
      message: "would plan (if needed) and enrich",
      changes: changedFields([
        ["status", trend.status, "ENRICHED"],
        ["language", trend.language, e.language],
        ["sentiment", trend.sentiment_score, e.sentiment.score],
        ["topics", trend.topics, e.topics],
        ["toxicityScore", trend.toxicity_score, e.toxicityScore],
        ["confidence", trend.confidence, e.confidence],
        ["summary", trend.summary, e.summary],
      ]),
    };
  },
};
