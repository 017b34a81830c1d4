import type { TrendRow } from "../../db/types.js";
import { estimateStepCost } from "../../domain/budget.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { StageBatchWrite } from "../batch-write.js";
import { trendUpdatedEnvelope } from "../trend-lifecycle.js";
import type { JudgePolicy } from "./judge-policy.js";

/** The scores the Judge decided on, as its provenance entry and escalations record them. */
export const judgedScores = (trend: TrendRow) => ({
  toxicityScore: trend.toxicity_score,
  confidence: trend.confidence,
  sentiment: trend.sentiment_score,
});

/**
 * What every Judge decision writes, whatever the outcome: the step's charge, its provenance
 * entry (naming the policy version) and the trend update. The batch writes of READY, REJECTED
 * and ESCALATED items add their own parts to it; `output` adds fields to the entry's output.
 */
export function judgedWrite(
  trend: TrendRow,
  decision: { outcome: "READY" | "REJECTED" | "ESCALATED"; rule: string; reason: string },
  policy: JudgePolicy,
  policyVersion: number,
  output: Record<string, unknown> = {},
): StageBatchWrite {
  return {
    trendId: trend.id,
    traceId: trend.trace_id,
    readSpent: trend.budget_spent,
    cost: estimateStepCost("judge", ""),
    provenance: {
      actor: `judge:policy-v${policyVersion}`,
      input: { ...judgedScores(trend), thresholds: policy.thresholds },
      output: {
        outcome: decision.outcome,
        rule: decision.rule,
        reason: decision.reason,
        policyVersion,
        ...output,
      },
    },
    events: [
      {
        stream: STREAMS.trendUpdates,
        envelope: trendUpdatedEnvelope(
          {
            id: trend.id,
            trace_id: trend.trace_id,
            status: decision.outcome,
            embedding_status: trend.embedding_status,
          },
          "EMBEDDED",
          { actor: "judge", reason: decision.reason },
        ),
      },
    ],
  };
}
