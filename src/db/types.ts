import type { ColumnType, Generated, Selectable, Updateable } from "kysely";

/** Row shapes of the tables in migrations/, as kysely sees them. */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string, string>;

export const TREND_STATUSES = [
  "RECEIVED",
  "PLANNED",
  "ENRICHED",
  "EMBEDDED",
  "READY",
  "ESCALATED",
  "APPROVED",
  "REJECTED",
  "PAUSED",
  "CANCELLED",
  "PUBLISHED",
  "FAILED",
] as const;
export type TrendStatus = (typeof TREND_STATUSES)[number];

export const EMBEDDING_STATUSES = ["PENDING", "SUCCEEDED", "FAILED"] as const;
export type EmbeddingStatus = (typeof EMBEDDING_STATUSES)[number];

export const ISSUE_TYPES = [
  "low_confidence",
  "toxicity",
  "budget_overrun",
  "audit_sample",
  "appeal",
] as const;
export type IssueType = (typeof ISSUE_TYPES)[number];

/** IN_REVIEW (migration 0008): reviewed by some but not all of the reviewers consensus needs. */
export const ESCALATION_STATUSES = ["OPEN", "CLAIMED", "IN_REVIEW", "RESOLVED"] as const;
export type EscalationStatus = (typeof ESCALATION_STATUSES)[number];

export const ROLES = ["integrator", "moderator", "operator", "viewer"] as const;
export type Role = (typeof ROLES)[number];

export type ApprovalPath = "judge" | "moderator" | "override";

export interface EnrichedTrendTable {
  id: string;
  trace_id: string;
  source: string;
  external_id: string | null;
  title: string | null;
  body: string;
  url: string | null;
  author: string | null;
  published_at: Date | null;
  metadata: Json;
  normalized_body: string | null;
  language: string | null;
  sentiment_score: number | null;
  sentiment_label: string | null;
  topics: ColumnType<string[], string[] | undefined, string[]>;
  toxicity_score: number | null;
  confidence: number | null;
  summary: string | null;
  enrichment: Json | null;
  status: ColumnType<TrendStatus, TrendStatus | undefined, TrendStatus>;
  embedding_status: ColumnType<EmbeddingStatus, EmbeddingStatus | undefined, EmbeddingStatus>;
  paused_step: string | null;
  paused_from: TrendStatus | null;
  /** Set while FAILED (migration 0005): the stage whose job dead-lettered, its error and time. */
  failed_stage: string | null;
  failed_error: string | null;
  failed_at: Date | null;
  /** The status replay returns a FAILED item to. */
  failed_from: TrendStatus | null;
  budget_limit: ColumnType<number, number | undefined, number>;
  budget_spent: ColumnType<number, number | undefined, number>;
  /** The tenant of the integrator key that posted it (migration 0004). */
  tenant: ColumnType<string, string | undefined, string>;
  /** Id of the key that posted it (separation of duties). */
  ingested_by_key: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PlannerIntentTable {
  id: string;
  trend_id: string;
  trace_id: string;
  intent: string;
  steps: Json;
  budget: number;
  planner: string;
  created_at: Timestamp;
}

export interface ProvenanceLogTable {
  id: Generated<string>;
  trace_id: string;
  trend_id: string | null;
  step: string;
  actor: string;
  input: Json;
  output: Json;
  parent_id: string | null;
  created_at: Timestamp;
}

export interface EmbeddingRecordTable {
  id: string;
  trend_id: string;
  vector_id: string;
  store: string;
  model: string;
  dimension: number;
  attempts: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
}

/** migrations/0006_vectors.ts: the vector of a trend, written with its embedding record. */
export interface TrendVectorTable {
  trend_id: string;
  model: string;
  dimension: number;
  /** float32 little-endian; null is a tombstone (a deleted vector). */
  vector: Buffer | null;
  source: string;
  status: string;
  created_at: Timestamp;
  /** xid8 of the writing transaction, as a decimal string. */
  xid: ColumnType<string, never, string>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** One row: this database's identity, so a persisted index never outlives its database. */
export interface TrendVectorStoreTable {
  id: ColumnType<string, never, never>;
  singleton: ColumnType<boolean, never, never>;
}

export interface EscalationTable {
  id: string;
  trend_id: string;
  issue_type: IssueType;
  reason: string;
  rule: string | null;
  scores: Json;
  status: ColumnType<EscalationStatus, EscalationStatus | undefined, EscalationStatus>;
  claimed_by: string | null;
  /** Key id of the claim's holder: claims compare ids, never names. */
  claimed_by_key: string | null;
  resolved_by_key: string | null;
  claim_token: ColumnType<string, string | number | undefined, string | number>;
  claim_expires_at: Date | null;
  decision: "APPROVE" | "REJECT" | null;
  note: string | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  sla_alerted_at: Date | null;
  stream_cursor: string | null;
  /** Key ids that may never review it (migration 0008; appeals exclude the original deciders). */
  excluded_reviewers: ColumnType<string[], string[] | undefined, string[]>;
  /** Set when reviewers disagreed: only this skill may review it now, and that decision is final. */
  decider_skill: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
  /** Taxonomy code of the final decision (reason-codes.ts); REJECT always has one. */
  reason_code: ColumnType<string | null, string | null | undefined, string | null>;
  /** Set by a deadline `reassign:<skill>` rung: only reviewers with this skill may take it. */
  required_skill: ColumnType<string | null, string | null | undefined, string | null>;
  /** For issue type appeal: the decided escalation it reopens. */
  appeal_of: ColumnType<string | null, string | null | undefined, string | null>;
  appealed_by_key: ColumnType<string | null, string | null | undefined, string | null>;
  appeal_statement: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface EscalationDeadlineRungTable {
  escalation_id: string;
  rung: number;
  rule: string;
  fired_at: Timestamp;
}

/** One reviewer's decision on an escalation (migration 0008): k-of-n consensus counts these. */
export interface EscalationReviewTable {
  escalation_id: string;
  reviewer_key_id: string;
  reviewer_name: string;
  decision: "APPROVE" | "REJECT";
  reason_code: string | null;
  note: string | null;
  at: Timestamp;
  /** False once the reviewer's key is revoked before the outcome: the review no longer counts. */
  counted: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface IncidentTable {
  id: string;
  trend_id: string;
  rule: string;
  reason: string;
  severity: ColumnType<string, string | undefined, string>;
  provenance: Json;
  created_at: Timestamp;
}

export interface PublishOverrideTable {
  id: string;
  trend_id: string;
  operator: string;
  justification: string;
  incident_id: string | null;
  created_at: Timestamp;
}

export interface PublicationTable {
  id: string;
  trend_id: string;
  adapter: string;
  tool: string;
  external_ref: string;
  idempotency_key: string;
  approval_path: ApprovalPath;
  override_id: string | null;
  created_at: Timestamp;
  reason_code: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface BudgetChargeTable {
  trend_id: string;
  step: string;
  cost: number;
  unit: string;
  created_at: Timestamp;
}

export interface OutboxTable {
  id: Generated<string>;
  stream: string;
  payload: Json;
  created_at: Timestamp;
}

export interface ApiKeyTable {
  id: string;
  name: string;
  role: Role;
  key_hash: string;
  /** Tenants the key may see; NULL = all. An integrator key has exactly one. */
  tenants: string[] | null;
  created_at: Timestamp;
  revoked_at: Date | null;
  /** Reviewer profile (migration 0008): ISO 639-1 codes (empty = any language). */
  languages: ColumnType<string[], string[] | undefined, string[]>;
  /** Free labels the policy's review.requiredSkill names (e.g. toxicity, senior). */
  skills: ColumnType<string[], string[] | undefined, string[]>;
  /** Claims held at once. */
  capacity: ColumnType<number, number | undefined, number>;
}

export interface JudgePolicyTable {
  version: number;
  policy: Json;
  origin: "operator" | "config";
  config_digest: string | null;
  created_by_key_id: string | null;
  created_by_name: string;
  justification: string;
  simulation: Json | null;
  created_at: Timestamp;
}

export interface Database {
  enriched_trends: EnrichedTrendTable;
  planner_intents: PlannerIntentTable;
  provenance_log: ProvenanceLogTable;
  embedding_records: EmbeddingRecordTable;
  trend_vectors: TrendVectorTable;
  trend_vector_store: TrendVectorStoreTable;
  escalations: EscalationTable;
  escalation_deadline_rungs: EscalationDeadlineRungTable;
  escalation_reviews: EscalationReviewTable;
  incidents: IncidentTable;
  publish_overrides: PublishOverrideTable;
  publications: PublicationTable;
  budget_charges: BudgetChargeTable;
  outbox: OutboxTable;
  api_keys: ApiKeyTable;
  judge_policies: JudgePolicyTable;
}

export type TrendRow = Selectable<EnrichedTrendTable>;
export type TrendUpdate = Updateable<EnrichedTrendTable>;
export type ProvenanceRow = Selectable<ProvenanceLogTable>;
export type EscalationRow = Selectable<EscalationTable>;
export type EscalationReviewRow = Selectable<EscalationReviewTable>;
export type IncidentRow = Selectable<IncidentTable>;
export type PublicationRow = Selectable<PublicationTable>;
export type EmbeddingRecordRow = Selectable<EmbeddingRecordTable>;
export type PlannerIntentRow = Selectable<PlannerIntentTable>;
export type JudgePolicyRow = Selectable<JudgePolicyTable>;
