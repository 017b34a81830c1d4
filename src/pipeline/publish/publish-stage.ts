import type { StageModule } from "../stage.js";
import {
  type BatchFailures,
  createPublishBatchHandler,
  withBatchFailures,
} from "./publish-batch.js";
import { createPublisherHandler } from "./publisher-worker.js";

export const publishStage: StageModule = {
  async start(deps) {
    const publisher = await deps.publisher();
    const failures: BatchFailures = new WeakMap();
    return {
      handler: withBatchFailures(
        failures,
        createPublisherHandler({ db: deps.db, publisher, logger: deps.logger }),
      ),
      // A read's plain READY/APPROVED items are charged, called and recorded together; the
      // rest (overrides, incidents, failures) go to the per-item handler.
      batchHandler: createPublishBatchHandler({
        db: deps.db,
        publisher,
        logger: deps.logger,
        // Each publication waits on the publish tool (an MCP call): this many in flight across
        // the stage's reads (at WORKER_CONCURRENCY's 4 it was the slowest stage of a load test).
        concurrency: deps.config.PUBLISH_CONCURRENCY,
        failures,
      }),
      // A read takes at most as many entries as there are free slots: room for two full reads,
      // so one calls the tool while the other records.
      concurrency: Math.max(deps.config.PUBLISH_CONCURRENCY, 2 * deps.config.WORKER_BATCH_SIZE),
    };
  },
};
