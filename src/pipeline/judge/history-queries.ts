import { sql } from "kysely";

import type { Db } from "../../db/database.js";

/** One item the Judge decided, with the scores it stored and what a moderator said, if anyone did. */
export interface JudgedItem {
  trendId: string;
  source: string;
  title: string | null;
  body: string;
  toxicityScore: number;
  confidence: number;
  judgedAt: Date;
  /** What the Judge recorded (an audit sample is ESCALATED). */
  recordedOutcome: string;
  recordedRule: string;
  policyVersion: number | null;
  auditSample: boolean;
  /** The latest moderator decision on a Judge escalation (not a budget overrun) of this item. */
  moderatorDecision: "APPROVE" | "REJECT" | null;
  issueType: string | null;
}

/**
 * Every item the Judge decided since `since` (its latest judge entry), in one query: the stored
 * scores and text re-run through `judge()`, and the human ground truth beside them.
 */
export async function loadJudgedItems(db: Db, since: Date): Promise<JudgedItem[]> {
  const { rows } = await sql<{
    trend_id: string;
    source: string;
    title: string | null;
    body: string;
    toxicity_score: number | null;
    confidence: number | null;
    judged_at: Date;
    outcome: string | null;
    rule: string | null;
    policy_version: number | null;
    audit_sample: boolean;
    decision: "APPROVE" | "REJECT" | null;
    issue_type: string | null;
  }>`
    SELECT DISTINCT ON (p.trend_id)
      p.trend_id, t.source, t.title, coalesce(t.normalized_body, t.body) AS body,
      t.toxicity_score, t.confidence, p.created_at AS judged_at,
      p.output->>'outcome' AS outcome, p.output->>'rule' AS rule,
      ${policyVersionOf(sql.ref("p.output"), sql.ref("p.actor"))} AS policy_version,
      coalesce((p.output->>'auditSample')::boolean, false) AS audit_sample,
      e.decision, e.issue_type
    FROM provenance_log p
    JOIN enriched_trends t ON t.id = p.trend_id
    LEFT JOIN (${latestModeratorDecisions}) e ON e.trend_id = p.trend_id
    WHERE p.step = 'judge' AND p.created_at >= ${since}
    ORDER BY p.trend_id, p.id DESC`.execute(db);
  return rows.map((r) => ({
    trendId: r.trend_id,
    source: r.source,
    title: r.title,
    body: r.body,
    toxicityScore: r.toxicity_score ?? 0,
    confidence: r.confidence ?? 0,
    judgedAt: r.judged_at,
    recordedOutcome: r.outcome ?? "UNKNOWN",
    recordedRule: r.rule ?? "unknown",
    policyVersion: r.policy_version,
    auditSample: r.audit_sample,
    moderatorDecision: r.decision,
    issueType: r.issue_type,
  }));
}

/**
 * Each item's latest moderator decision on a Judge escalation (budget overruns are not about
 * content), as one set joined by hash: a per-row subquery would scan escalations once per item.
 */
export const latestModeratorDecisions = sql`
  SELECT DISTINCT ON (trend_id) trend_id, decision, issue_type FROM escalations
  WHERE status = 'RESOLVED' AND issue_type <> 'budget_overrun'
  ORDER BY trend_id, resolved_at DESC`;

/**
 * The policy version of a judge entry: `output.policyVersion`, or for entries written before
 * versions were stored, the number in the actor `judge:policy-v<N>` when it is one.
 */
export function policyVersionOf(
  output: ReturnType<typeof sql.ref>,
  actor: ReturnType<typeof sql.ref>,
) {
  return sql<
    number | null
  >`coalesce((${output}->>'policyVersion')::int, (substring(${actor} from '^judge:policy-v([0-9]{1,9})$'))::int)`;
}
