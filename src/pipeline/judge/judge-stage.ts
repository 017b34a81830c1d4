import type { StageModule } from "../stage.js";
import { createJudgeHandler } from "./judge-worker.js";

export const judgeStage: StageModule = {
  async start(deps) {
    // Stores the configured policy as the first version on an empty table, before any job.
    await deps.policy.current();
    return {
      handler: createJudgeHandler({
        db: deps.db,
        policy: deps.policy,
        logger: deps.logger,
        auditSampleRate: deps.config.AUDIT_SAMPLE_RATE,
      }),
    };
  },
};
