import type { StageModule } from "../stage.js";
import { createJudgeBatchHandler } from "./judge-batch.js";
import { createJudgeHandler } from "./judge-worker.js";

export const judgeStage: StageModule = {
  async start(deps) {
    // Stores the configured policy as the first version on an empty table, before any job.
    await deps.policy.current();
    const judgeDeps = {
      db: deps.db,
      policy: deps.policy,
      logger: deps.logger,
      auditSampleRate: deps.config.AUDIT_SAMPLE_RATE,
    };
    const handler = createJudgeHandler(judgeDeps);
    return {
      handler,
      // A read's READY items commit in one transaction; the rest go to the per-item handler.
      batchHandler: createJudgeBatchHandler({ ...judgeDeps, perItem: handler }),
      // A read takes at most as many entries as there are free slots: room for two full reads,
      // so one decides while the other commits (WORKER_CONCURRENCY alone kept reads at 4).
      concurrency: Math.max(deps.config.WORKER_CONCURRENCY, 2 * deps.config.WORKER_BATCH_SIZE),
    };
  },
};
