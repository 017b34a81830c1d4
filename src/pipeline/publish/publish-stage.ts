import type { StageModule } from "../stage.js";
import { createPublisherHandler } from "./publisher-worker.js";

export const publishStage: StageModule = {
  async start(deps) {
    return {
      handler: createPublisherHandler({
        db: deps.db,
        publisher: await deps.publisher(),
        logger: deps.logger,
      }),
    };
  },
};
