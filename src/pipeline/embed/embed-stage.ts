import { MicroBatchEmbedder } from "../../nlp/micro-batch-embedder.js";
import { changedFields, noOpPreview, type StageModule } from "../stage.js";
import { createEmbeddingBatchHandler } from "./embed-batch.js";
import { createEmbeddingHandler, embeddingText } from "./embedding-worker.js";

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
      concurrency: deps.config.EMBEDDING_CONCURRENCY,
    };
  },

  async preview(deps, trend) {
    if (trend.status !== "ENRICHED") return noOpPreview(trend);
    const embedder = await deps.embedder();
    const [vector] = await embedder.embed([embeddingText(trend)]);
    // A read proves the store answers without writing to it.
    await deps.store.count();
    return {
      outcome: "would_succeed",
      message: `would upsert a ${vector?.length ?? 0}-d vector (${embedder.model}) into ${deps.store.name}`,
      changes: changedFields([
        ["status", trend.status, "EMBEDDED"],
        ["embeddingStatus", trend.embedding_status, "SUCCEEDED"],
      ]),
    };
  },
};
