import { createHash } from "node:crypto";

import type { JudgeDecision } from "./judge-policy.js";

/**
 * Whether an item the Judge would publish goes to a moderator first as an audit sample. The
 * draw is a hash of the trend id, not a random number, so a redelivered job decides the same.
 */
export function isAuditSampled(trendId: string, rate: number): boolean {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  const digest = createHash("sha256").update(`audit-sample:${trendId}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32 < rate;
}

/**
 * The decision the Judge acts on: a READY decision drawn for the audit sample becomes an
 * `audit_sample` escalation (APPROVE publishes it as usual, REJECT does not); moderator decisions
 * on these are the unbiased measure of the live leak rate.
 */
export function applyAuditSample(
  decision: JudgeDecision,
  trendId: string,
  rate: number,
): { decision: JudgeDecision; auditSampled: boolean } {
  if (decision.outcome !== "READY" || !isAuditSampled(trendId, rate))
    return { decision, auditSampled: false };
  return {
    auditSampled: true,
    decision: {
      outcome: "ESCALATED",
      issueType: "audit_sample",
      rule: "audit_sample",
      reason: `audit sample (rate ${rate}); the Judge would publish: ${decision.reason}`,
    },
  };
}
