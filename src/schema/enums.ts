import { registerEnumType } from "type-graphql";

/** GraphQL enums; values equal the database's, so no mapping layer is needed. */
export enum TrendStatus {
  RECEIVED = "RECEIVED",
  PLANNED = "PLANNED",
  ENRICHED = "ENRICHED",
  EMBEDDED = "EMBEDDED",
  READY = "READY",
  ESCALATED = "ESCALATED",
  APPROVED = "APPROVED",
  REJECTED = "REJECTED",
  PAUSED = "PAUSED",
  CANCELLED = "CANCELLED",
  PUBLISHED = "PUBLISHED",
  /** A stage dead-lettered the item's job; see `Trend.failure`. Replaying the dead letter moves it on. */
  FAILED = "FAILED",
}

export enum EmbeddingStatus {
  PENDING = "PENDING",
  SUCCEEDED = "SUCCEEDED",
  FAILED = "FAILED",
}

export enum IssueType {
  LOW_CONFIDENCE = "low_confidence",
  TOXICITY = "toxicity",
  BUDGET_OVERRUN = "budget_overrun",
  /** The Judge would have published it; sampled (AUDIT_SAMPLE_RATE) so a human measures the leak rate. */
  AUDIT_SAMPLE = "audit_sample",
  /** An integrator (or operator) appealed a REJECT; reviewers who decided it may not review it. */
  APPEAL = "appeal",
}

export enum EscalationStatus {
  OPEN = "OPEN",
  CLAIMED = "CLAIMED",
  /** Some of the reviews consensus needs are in; waiting for the others (k-of-n). */
  IN_REVIEW = "IN_REVIEW",
  RESOLVED = "RESOLVED",
}

export enum Decision {
  APPROVE = "APPROVE",
  REJECT = "REJECT",
}

export enum ApprovalPath {
  JUDGE = "judge",
  MODERATOR = "moderator",
  OVERRIDE = "override",
}

export enum Role {
  INTEGRATOR = "integrator",
  MODERATOR = "moderator",
  OPERATOR = "operator",
  VIEWER = "viewer",
}

registerEnumType(TrendStatus, { name: "TrendStatus" });
registerEnumType(EmbeddingStatus, { name: "EmbeddingStatus" });
registerEnumType(IssueType, { name: "IssueType", description: "Why an item waits for a human" });
registerEnumType(EscalationStatus, { name: "EscalationStatus" });
registerEnumType(Decision, { name: "Decision" });
registerEnumType(ApprovalPath, { name: "ApprovalPath" });
registerEnumType(Role, { name: "Role" });
