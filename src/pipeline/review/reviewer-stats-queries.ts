import { sql } from "kysely";

import type { Db } from "../../db/database.js";
import { tenantCondition } from "../../db/tenant-filter.js";
import type { TenantScope } from "../../domain/tenant-scope.js";

/** One reviewer's work (issue 14, item 7); identity is the key id, shown with its latest name. */
export interface ReviewerStatsRow {
  reviewerId: string;
  reviewerName: string;
  /** Reviews recorded (one per escalation reviewed), counted towards an outcome or not. */
  reviews: number;
  /** Median seconds from the reviewer's claim to their review; null when no review followed a claim. */
  medianHandlingSeconds: number | null;
  /** Reviews of escalations that have reached their outcome. */
  decided: number;
  /** Share of `decided` whose decision is the escalation's final one; null when `decided` is 0. */
  agreementRate: number | null;
  /** Decisions an appeal reversed (the appeal of that escalation was resolved the other way). */
  overturnedOnAppeal: number;
  /** Reviews of audit samples (items the Judge would have published) that reached their outcome. */
  auditSamples: number;
  /** Share of `auditSamples` agreeing with the final outcome; null without audit samples. */
  auditAgreementRate: number | null;
}

export interface ReviewerStatsQuery {
  /** Reviews made at or after this instant; all when absent. */
  since?: Date | null;
  /** Only this key's figures (a moderator sees their own). */
  reviewerId?: string | null;
  /** Only reviews of items in these tenants. */
  scope?: TenantScope;
}

/**
 * Figures per reviewer from their reviews (escalation_reviews), claims (escalation_claims, for
 * handling time) and the escalations' outcomes, in one query. Agreement is with the escalation's
 * final decision (after consensus or the disagreement reviewer); a reviewer deciding alone
 * therefore agrees with themself, which is why `decided` is given beside the rate. The same
 * function feeds `reviewerStats` and the Prometheus gauges, so both say the same.
 */
export async function reviewerStats(
  db: Db,
  query: ReviewerStatsQuery = {},
): Promise<ReviewerStatsRow[]> {
  const since = query.since ?? null;
  const reviewer = query.reviewerId ?? null;
  const { rows } = await sql<{
    reviewer_id: string;
    reviewer_name: string;
    reviews: number;
    median_handling_seconds: number | null;
    decided: number;
    agreed: number;
    overturned: number;
    audit_decided: number;
    audit_agreed: number;
  }>`
    WITH r AS (
      SELECT r.reviewer_key_id, r.reviewer_name, r.decision, r.at, e.issue_type,
        e.status = 'RESOLVED' AND e.decision IS NOT NULL AS decided,
        r.decision = e.decision AS agreed,
        (SELECT max(c.claimed_at) FROM escalation_claims c
          WHERE c.escalation_id = r.escalation_id AND c.reviewer_key_id = r.reviewer_key_id
            AND c.claimed_at <= r.at) AS claimed_at,
        EXISTS (SELECT 1 FROM escalations a
          WHERE a.appeal_of = e.id AND a.status = 'RESOLVED' AND a.decision IS DISTINCT FROM r.decision
            AND a.decision IS NOT NULL) AS overturned
      FROM escalation_reviews r
      JOIN escalations e ON e.id = r.escalation_id
      JOIN enriched_trends t ON t.id = e.trend_id
      WHERE (${since}::timestamptz IS NULL OR r.at >= ${since}::timestamptz)
        AND (${reviewer}::text IS NULL OR r.reviewer_key_id = ${reviewer}::text)
        AND ${tenantCondition(query.scope ?? null, "t.tenant")}
    )
    SELECT reviewer_key_id AS reviewer_id,
      (array_agg(reviewer_name ORDER BY at DESC))[1] AS reviewer_name,
      count(*)::int AS reviews,
      (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM at - claimed_at))
        FILTER (WHERE claimed_at IS NOT NULL))::float8 AS median_handling_seconds,
      count(*) FILTER (WHERE decided)::int AS decided,
      count(*) FILTER (WHERE decided AND agreed)::int AS agreed,
      count(*) FILTER (WHERE overturned)::int AS overturned,
      count(*) FILTER (WHERE decided AND issue_type = 'audit_sample')::int AS audit_decided,
      count(*) FILTER (WHERE decided AND agreed AND issue_type = 'audit_sample')::int AS audit_agreed
    FROM r
    GROUP BY reviewer_key_id
    ORDER BY reviews DESC, reviewer_key_id`.execute(db);
  return rows.map((r) => ({
    reviewerId: r.reviewer_id,
    reviewerName: r.reviewer_name,
    reviews: r.reviews,
    medianHandlingSeconds: r.median_handling_seconds,
    decided: r.decided,
    agreementRate: r.decided ? r.agreed / r.decided : null,
    overturnedOnAppeal: r.overturned,
    auditSamples: r.audit_decided,
    auditAgreementRate: r.audit_decided ? r.audit_agreed / r.audit_decided : null,
  }));
}
