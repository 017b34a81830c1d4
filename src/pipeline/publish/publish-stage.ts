import type { StageModule } from "../stage.js";
import { createPublisherHandler } from "./publisher-worker.js";

export const publishStage: StageModule = {
  async start(deps) {
    return {
      // Each publication waits on the publish tool (an MCP call), so more in flight than the
      // CPU-bound stages: at WORKER_CONCURRENCY's 4 it was the slowest stage of a load test.
      concurrency: deps.config.PUBLISH_CONCURRENCY,
      handler: createPublisherHandler({
        db: deps.db,
        publisher: await deps.publisher(),
        logger: deps.logger,
      }),
    };
  },
};
