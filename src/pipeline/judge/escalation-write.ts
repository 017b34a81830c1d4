import { randomUUID } from "node:crypto";

import type { TrendRow } from "../../db/types.js";
import { withItemSpan } from "../../observability/tracing.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import { webhookEventEnvelope } from "../../webhooks/webhook-event.js";
import type { EscalationWrite } from "./escalation-batch-queries.js";
import type { JudgeDecision, JudgePolicy } from "./judge-policy.js";
import { judgedScores, judgedWrite } from "./judged-write.js";

/**
 * What the per-item handler (judge-worker.ts, openEscalation) writes for an item the Judge
 * escalates, as data for commitEscalationBatch: the same provenance entry, escalation columns
 * and events. `judged` is the policy's own decision, `decision` the one acted on (an audit
 * sample turns READY into an escalation).
 */
export async function escalationWrite(
  trend: TrendRow,
  judged: JudgeDecision,
  decision: Extract<JudgeDecision, { outcome: "ESCALATED" }>,
  auditSampled: boolean,
  policy: JudgePolicy,
  policyVersion: number,
): Promise<EscalationWrite> {
  const escalationId = randomUUID();
  // Built inside openEscalation's span, as it does: its events carry the span as their parent.
  const announcements = await withItemSpan(
    "escalation",
    { traceId: trend.trace_id },
    { "trendgate.issue_type": decision.issueType },
    () =>
      Promise.resolve([
        {
          stream: STREAMS.escalations,
          envelope: makeEnvelope("escalation.created", {
            traceId: trend.trace_id,
            trendId: trend.id,
            payload: {
              trendId: trend.id,
              escalationId,
              issueType: decision.issueType,
              // Set by the statement to the entry it writes.
              provenanceId: null,
              policyVersion,
            },
          }),
        },
        {
          stream: STREAMS.webhooks,
          envelope: webhookEventEnvelope({
            type: "escalation.created",
            traceId: trend.trace_id,
            trendId: trend.id,
            data: { escalationId, trendId: trend.id, issueType: decision.issueType },
          }),
        },
      ]),
  );
  const envelope = (type: string, payload: Record<string, unknown>) =>
    makeEnvelope(type, {
      traceId: trend.trace_id,
      trendId: trend.id,
      payload: { trendId: trend.id, ...payload },
    });
  const auditOutput = auditSampled
    ? { auditSample: true, judgeOutcome: judged.outcome, judgeRule: judged.rule }
    : {};
  return {
    ...judgedWrite(trend, decision, policy, policyVersion, auditOutput),
    escalation: {
      id: escalationId,
      issueType: decision.issueType,
      reason: decision.reason,
      rule: decision.rule,
      scores: judgedScores(trend),
    },
    announcements,
    overrideJob: (overrideId) => ({
      stream: STREAMS.publishJobs,
      envelope: envelope("trend.override", { overrideId }),
    }),
  };
}
