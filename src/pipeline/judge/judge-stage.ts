import { changedFields, noOpPreview, type StageModule } from "../stage.js";
import { judge } from "./judge-policy.js";
import { createJudgeHandler } from "./judge-worker.js";

export const judgeStage: StageModule = {
  async start(deps) {
    return { handler: createJudgeHandler({ db: deps.db, policy: deps.policy(), logger: deps.logger }) };
  },

  async preview(deps, trend) {
    if (trend.status !== "EMBEDDED") return noOpPreview(trend);
    const d = judge(
      {
        source: trend.source,
        title: trend.title,
        body: trend.normalized_body ?? trend.body,
        toxicityScore: trend.toxicity_score ?? 0,
        confidence: trend.confidence ?? 0,
      },
      deps.policy().current(),
    );
    return { outcome: "would_succeed", message: `rule ${d.rule}: ${d.reason}`, changes: changedFields([["status", trend.status, d.outcome]]) };
  },
};
