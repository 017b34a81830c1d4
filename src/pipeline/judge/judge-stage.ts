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
      // A read's READY items commit in one transaction, its escalations and rejections in
      // another; the rest (over budget, changed since read) go to the per-item handler.
      batchHandler: createJudgeBatchHandler({
        ...judgeDeps,
        perItem: handler,
        batchDecisions: true,
      }),
      // A read takes at most as many entries as there are free slots, and holds them until it
      // is written: room for four full reads, so clean items keep being read and committed
      // while earlier reads finish (two held the stage at ~40 items/s under a 100 items/s load
      // test, when escalations were decided per item).
      concurrency: Math.max(deps.config.WORKER_CONCURRENCY, 4 * deps.config.WORKER_BATCH_SIZE),
    };
  },
};
