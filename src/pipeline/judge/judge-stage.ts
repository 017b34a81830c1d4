import { changedFields, noOpPreview, type StageModule } from "../stage.js";
import { applyAuditSample } from "./audit-sample.js";
import { judge } from "./judge-policy.js";
import { createJudgeHandler, judgeInputOf } from "./judge-worker.js";

export const judgeStage: StageModule = {
  async start(deps) {
    // Stores the configured policy as the first version on an empty table, before any job.
    await deps.policy.current();
    return {
      handler: createJudgeHandler({ db: deps.db, policy: deps.policy, logger: deps.logger, auditSampleRate: deps.config.AUDIT_SAMPLE_RATE }),
    };
  },

  async preview(deps, trend) {
    if (trend.status !== "EMBEDDED") return noOpPreview(trend);
    const { version, policy } = await deps.policy.current();
    const judged = judge(judgeInputOf(trend), policy);
    // The same audit sampling as the worker: the sample is a deterministic function of the id.
    const { decision: d } = applyAuditSample(judged, trend.id, deps.config.AUDIT_SAMPLE_RATE);
    return {
      outcome: "would_succeed",
      message: `policy v${version}, rule ${d.rule}: ${d.reason}`,
      changes: changedFields([["status", trend.status, d.outcome]]),
    };
  },
};
