import { sql } from "kysely";

import type { Db } from "../../db/database.js";
import { latestModeratorDecisions, policyVersionOf } from "./history-queries.js";
import { LEANS_TOXIC } from "./judge-policy.js";

/** The Judge's figures for one time bucket and policy version (the console's Judge page). */
export interface JudgeStatsBucket {
  start: Date;
  policyVersion: number | null;
  judged: number;
  escalationRate: number;
  autoPublishRate: number;
  autoRejectRate: number;
  auditSamples: number;
  auditResolved: number;
  /** Share of resolved audit samples a moderator REJECTED; null before any is resolved. */
  auditDisagreementRate: number | null;
  resolved: number;
  /**
   * Resolved escalations decided against the Judge's lean: APPROVE on an item at or above
   * {@link LEANS_TOXIC} (its automatic decision would be REJECT), REJECT on one below it or on an
   * audit sample (which the Judge would have published).
   */
  overturns: number;
  overturnRate: number | null;
}

/**
 * Judge decisions bucketed by the time they were made and the policy version that made them, in
 * one query; each escalation's latest moderator decision is counted in the bucket of the decision
 * it answers.
 */
export async function judgeStats(
  db: Db,
  since: Date,
  bucketMinutes: number,
): Promise<JudgeStatsBucket[]> {
  const { rows } = await sql<{
    start: Date;
    policy_version: number | null;
    judged: number;
    escalated: number;
    published: number;
    rejected: number;
    audit_samples: number;
    audit_resolved: number;
    audit_rejected: number;
    resolved: number;
    overturns: number;
  }>`
    WITH judged AS (
      SELECT p.trend_id, p.created_at, p.output->>'outcome' AS outcome,
        ${policyVersionOf(sql.ref("p.output"), sql.ref("p.actor"))} AS policy_version,
        coalesce((p.output->>'auditSample')::boolean, false) AS audit,
        coalesce(t.toxicity_score, 0) AS toxicity
      FROM provenance_log p JOIN enriched_trends t ON t.id = p.trend_id
      WHERE p.step = 'judge' AND p.created_at >= ${since}
    )
    SELECT date_bin(make_interval(mins => ${bucketMinutes}), j.created_at, timestamptz 'epoch') AS start,
      j.policy_version,
      count(*)::int AS judged,
      count(*) FILTER (WHERE j.outcome = 'ESCALATED')::int AS escalated,
      count(*) FILTER (WHERE j.outcome = 'READY')::int AS published,
      count(*) FILTER (WHERE j.outcome = 'REJECTED')::int AS rejected,
      count(*) FILTER (WHERE j.audit)::int AS audit_samples,
      count(e.decision) FILTER (WHERE j.audit)::int AS audit_resolved,
      count(*) FILTER (WHERE j.audit AND e.decision = 'REJECT')::int AS audit_rejected,
      count(e.decision)::int AS resolved,
      count(*) FILTER (WHERE
        (e.decision = 'APPROVE' AND NOT j.audit AND j.toxicity >= ${LEANS_TOXIC}) OR
        (e.decision = 'REJECT' AND (j.audit OR j.toxicity < ${LEANS_TOXIC})))::int AS overturns
    FROM judged j
    LEFT JOIN (${latestModeratorDecisions}) e ON e.trend_id = j.trend_id AND j.outcome = 'ESCALATED'
    GROUP BY 1, 2
    ORDER BY 1, 2 NULLS FIRST`.execute(db);
  return rows.map((r) => ({
    start: r.start,
    policyVersion: r.policy_version,
    judged: r.judged,
    escalationRate: r.escalated / r.judged,
    autoPublishRate: r.published / r.judged,
    autoRejectRate: r.rejected / r.judged,
    auditSamples: r.audit_samples,
    auditResolved: r.audit_resolved,
    auditDisagreementRate: r.audit_resolved ? r.audit_rejected / r.audit_resolved : null,
    resolved: r.resolved,
    overturns: r.overturns,
    overturnRate: r.resolved ? r.overturns / r.resolved : null,
  }));
}
