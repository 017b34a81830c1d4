import type { EscalationRow, IncidentRow, ProvenanceRow, TrendRow } from "../db/types.js";
import type { EmbeddingStatus, EscalationStatus, IssueType, TrendStatus } from "./enums.js";
import type { Decision } from "./enums.js";
import type { Escalation, Incident, ProvenanceEntry } from "./moderation-types.js";
import type { Trend } from "./trend-types.js";

/** Database rows → GraphQL objects. Relations are left to field resolvers. */
export function toTrend(row: TrendRow): Trend {
  return {
    id: row.id,
    traceId: row.trace_id,
    source: row.source,
    externalId: row.external_id,
    title: row.title,
    body: row.body,
    url: row.url,
    author: row.author,
    publishedAt: row.published_at,
    metadata: row.metadata,
    language: row.language,
    status: row.status as TrendStatus,
    embeddingStatus: row.embedding_status as EmbeddingStatus,
    sentiment:
      row.sentiment_score === null
        ? null
        : { score: row.sentiment_score, label: row.sentiment_label ?? "neutral" },
    topics: row.topics,
    toxicityScore: row.toxicity_score,
    confidence: row.confidence,
    summary: row.summary,
    enrichment: row.enrichment,
    budget: { limit: row.budget_limit, spent: row.budget_spent },
    pausedStep: row.paused_step,
    failure:
      row.status === "FAILED" && row.failed_stage
        ? {
            stage: row.failed_stage,
            error: row.failed_error ?? "",
            at: row.failed_at ?? row.updated_at,
          }
        : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toEscalation(
  row: EscalationRow,
  cursor: string | null = row.stream_cursor,
): Escalation {
  return {
    id: row.id,
    trendId: row.trend_id,
    issueType: row.issue_type as IssueType,
    reason: row.reason,
    rule: row.rule,
    scores: row.scores,
    status: row.status as EscalationStatus,
    claimedBy: row.claimed_by,
    claimedByReviewer:
      row.claimed_by && row.claimed_by_key
        ? { id: row.claimed_by_key, name: row.claimed_by }
        : null,
    claimToken: String(row.claim_token),
    claimExpiresAt: row.claim_expires_at,
    resolution:
      row.decision && row.resolved_by && row.resolved_at
        ? {
            decision: row.decision as Decision,
            reasonCode: row.reason_code,
            note: row.note,
            resolvedBy: row.resolved_by,
            resolvedByReviewer: row.resolved_by_key
              ? { id: row.resolved_by_key, name: row.resolved_by }
              : null,
            resolvedAt: row.resolved_at,
          }
        : null,
    requiredSkill: row.required_skill ?? null,
    appealOf: row.appeal_of ?? null,
    appealStatement: row.appeal_statement ?? null,
    createdAt: row.created_at,
    cursor,
    deciderSkill: row.decider_skill,
  };
}

export function toIncident(row: IncidentRow): Incident {
  return {
    id: row.id,
    trendId: row.trend_id,
    rule: row.rule,
    reason: row.reason,
    severity: row.severity,
    provenance: row.provenance,
    createdAt: row.created_at,
  };
}

export function toProvenanceEntry(row: ProvenanceRow): ProvenanceEntry {
  return {
    id: row.id,
    traceId: row.trace_id,
    trendId: row.trend_id,
    step: row.step,
    actor: row.actor,
    input: row.input,
    output: row.output,
    createdAt: row.created_at,
  };
}
