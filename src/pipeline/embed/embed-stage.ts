import { MicroBatchEmbedder } from "../../nlp/micro-batch-embedder.js";
import type { StageModule } from "../stage.js";
import { COMMIT_GROUP, createEmbeddingBatchHandler } from "./embed-batch.js";
import { createEmbeddingHandler } from "./embedding-worker.js";

export const embedStage: StageModule = {
  async start(deps) {
    // More handlers in flight than other stages, so their single-text calls coalesce into
    // model batches (MicroBatchEmbedder).
    const embedder = new MicroBatchEmbedder(await deps.embedder(), 32);
    const handlerDeps = { db: deps.db, embedder, store: deps.store, logger: deps.logger };
    return {
      handler: createEmbeddingHandler(handlerDeps),
      // A read's entries in one model call and one commit; retries and leftovers go one by one.
      batchHandler: createEmbeddingBatchHandler(handlerDeps),
      // Reads of up to this many entries: 8 commit groups of COMMIT_GROUP side by side.
      concurrency: Math.max(deps.config.EMBEDDING_CONCURRENCY, 8 * COMMIT_GROUP),
    };
  },
};
