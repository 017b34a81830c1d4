import type { StageModule } from "../stage.js";
import { createEnrichBatchHandler } from "./enrich-batch.js";
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
};
