import { MicroBatchEmbedder } from "../../nlp/micro-batch-embedder.js";
import type { StageModule } from "../stage.js";
import { createEmbedBatchHandler } from "./embed-batch.js";
import { createEmbeddingHandler } from "./embedding-worker.js";

export const embedStage: StageModule = {
  async start(deps) {
    // More handlers in flight than other stages, so their single-text calls coalesce into
    // model batches (MicroBatchEmbedder).
    const embedder = new MicroBatchEmbedder(await deps.embedder(), 32);
    return {
      handler: createEmbeddingHandler({
        db: deps.db,
        embedder,
        store: deps.store,
        logger: deps.logger,
      }),
      // A read embeds in one model call and commits in one transaction (Postgres store).
      batchHandler: createEmbedBatchHandler({
        db: deps.db,
        embedder,
        store: deps.store,
        logger: deps.logger,
      }),
      // Room for two full reads, so one embeds while the other commits.
      concurrency: Math.max(deps.config.EMBEDDING_CONCURRENCY, 2 * deps.config.WORKER_BATCH_SIZE),
    };
  },
};
