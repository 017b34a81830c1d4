import type { Role } from "../db/types.js";
import { type Action, isAllowed } from "./permissions.js";

/**
 * THE authorization table (issue 12): every GraphQL operation and REST route, and every field
 * that only some roles may read. The gateway enforces exactly this (src/resolvers/access-guard.ts
 * wraps the schema, so HTTP and WebSocket share it; REST looks its route up here), and
 * docs/AUTHORIZATION.md is rendered from it (src/domain/authorization-doc.ts). A root field of
 * schema.graphql without a line here is refused to everyone and fails the matrix test, so adding
 * an operation means adding one line.
 *
 * `tenant: true` marks operations whose rows are limited to the caller's tenants (integrators:
 * their own; staff keys made with `--tenants`): another tenant's item answers NOT_FOUND.
 */
export interface OperationRule {
  /** `public`: anyone; `metrics token`: only the METRICS_TOKEN bearer (no API key opens it). */
  action: Action | "public" | "metrics token";
  tenant?: boolean;
  note?: string;
}

export const OPERATION_RULES: Record<string, OperationRule> = {
  "Query.me": { action: "authenticated" },
  "Query.trend": { action: "read", tenant: true },
  "Query.trends": { action: "read", tenant: true },
  "Query.similarTrends": { action: "read", tenant: true, note: "`text:` is rate-limited per key" },
  "Query.escalation": { action: "read", tenant: true },
  "Query.escalations": { action: "read", tenant: true },
  "Query.incidents": { action: "read", tenant: true },
  "Query.provenance": { action: "read", tenant: true },
  "Query.pipelineHealth": {
    action: "read",
    note: "figures of the shared pipeline, no tenant data (the load test reads it with an integrator key)",
  },
  "Query.embeddingProgress": {
    action: "read",
    note: "re-embedding progress (records per embedding model), figures of the shared pipeline like pipelineHealth, no tenant data",
  },
  "Query.pipelineStages": {
    action: "read",
    note: "the stage list (streams, groups, dead-letter streams), no tenant data",
  },
  "Query.deadLetters": { action: "operate" },
  "Query.judgePolicy": { action: "read:judge-policy", note: "policy internals" },
  "Query.judgePolicyHistory": { action: "read:judge-policy", note: "policy internals" },
  "Query.simulateJudgePolicy": { action: "operate" },
  "Query.judgeCalibrationProposal": { action: "operate" },
  "Query.judgeStats": { action: "read:judge-stats", note: "rates per bucket, no thresholds" },
  "Query.reasonCodes": {
    action: "read",
    note: "the reason-code taxonomy (statement-of-reasons categories), no tenant data",
  },
  "Query.reviewerStats": {
    action: "moderate",
    tenant: true,
    note: "operators see every reviewer; a moderator only their own figures",
  },
  "Mutation.applyJudgePolicy": { action: "operate" },
  "Mutation.ingestTrend": {
    action: "ingest",
    tenant: true,
    note: "written under the key's tenant; rate-limited per key",
  },
  "Mutation.ingestTrends": {
    action: "ingest",
    tenant: true,
    note: "written under the key's tenant; rate-limited per key",
  },
  "Mutation.claimEscalation": { action: "moderate", tenant: true },
  "Mutation.claimNextEscalation": {
    action: "moderate",
    tenant: true,
    note: "the most urgent escalation the caller is eligible for (language, skill, capacity, not reviewed by them), or null",
  },
  "Mutation.releaseEscalation": { action: "moderate", tenant: true },
  "Mutation.resolveEscalation": {
    action: "moderate",
    tenant: true,
    note: "with SEPARATION_OF_DUTIES, not by the key that ingested the item; FORBIDDEN for a reviewer routing would not choose; CONFLICT for a second review by one key",
  },
  "Mutation.overridePublish": { action: "operate", tenant: true },
  "Mutation.appealDecision": {
    action: "appeal",
    tenant: true,
    note: "the integrator key that posted the item or an operator of its tenant (anyone else FORBIDDEN); a REJECTED item only, one appeal per decision",
  },
  "Mutation.replayDeadLetters": { action: "operate" },
  "Mutation.revokeApiKey": { action: "operate" },
  "Subscription.escalationCreated": { action: "subscribe:escalations", tenant: true },
  "Subscription.escalationUpdated": { action: "subscribe:escalations", tenant: true },
  "Subscription.escalationResolved": { action: "subscribe:escalations", tenant: true },
  "Subscription.trendUpdated": { action: "subscribe:trends", tenant: true },
  "Subscription.operatorAlerts": { action: "subscribe:alerts" },
};

/** REST routes beside GraphQL, by `METHOD path`. */
export const ROUTE_RULES: Record<string, OperationRule> = {
  "POST /escalations/:id/resolve": {
    action: "moderate",
    tenant: true,
    note: "same rules as resolveEscalation",
  },
  "GET /healthz": {
    action: "public",
    note: "names the dependency that is down, never a driver message",
  },
  "GET /metrics": {
    action: "metrics token",
    note: "on the API port only with `Authorization: Bearer $METRICS_TOKEN` (404 when unset, 401 for a wrong one); or alone on METRICS_PORT",
  },
};

/**
 * Fields only some roles may read, whatever operation reaches them. `redact` gives the others a
 * public version (FIELD_REDACTIONS), so one query serves every role (the console's queue works
 * for a viewer, without the internals); `deny` answers FORBIDDEN on the field.
 */
export interface FieldRule {
  action: Action;
  mode: "deny" | "redact";
  why: string;
}

const internals = (why: string): FieldRule => ({ action: "see:internals", mode: "redact", why });

export const FIELD_RULES: Record<string, FieldRule> = {
  "Escalation.claimToken": internals("claim token: empty"),
  "Escalation.claimedBy": internals("reviewer identity: null"),
  "Escalation.claimExpiresAt": internals("claim lease: null"),
  "Escalation.claimedByReviewer": internals("reviewer identity: null"),
  "Resolution.resolvedByReviewer": internals("reviewer identity: null"),
  "Escalation.reason": internals(
    "policy internals (thresholds): the public reason code (the issue type) instead",
  ),
  "Escalation.rule": internals("policy internals: null"),
  "Escalation.scores": internals("policy internals: {}"),
  "Escalation.appealStatement": internals("the appellant's statement: null"),
  "Escalation.precedents": internals("other items' decisions and reason codes: []"),
  "Resolution.note": internals("moderator note: null"),
  "Escalation.reviews": {
    action: "operate",
    mode: "redact",
    why: "others' decisions before the outcome: decision, reasonCode and note are null until the escalation is RESOLVED, except in the caller's own review",
  },
  "EscalationReview.reviewer": internals("reviewer identity: `moderator`"),
  "EscalationReview.reviewedBy": internals("reviewer identity: id empty, name `moderator`"),
  "EscalationReview.note": internals("moderator note: null"),
  "Resolution.resolvedBy": internals("reviewer identity: `moderator`"),
  "PublishOverride.justification": internals("override justification: empty"),
  "PublishOverride.operator": internals("reviewer identity: `operator`"),
  "Incident.rule": internals("policy internals: `policy`"),
  "Incident.reason": internals("policy internals: `policy violation`"),
  "Incident.provenance": internals("notes and justifications in the chain: []"),
  "ProvenanceEntry.actor": internals("reviewer identity: the role only"),
  "ProvenanceEntry.input": internals("notes, justifications, policy internals: public keys only"),
  "ProvenanceEntry.output": internals("policy internals: public keys only"),
  "TrendUpdate.actor": internals("reviewer identity: null"),
  "TrendUpdate.reason": internals("moderator notes travel as the reason: null"),
};

/** Keys of provenance input/output that anyone who may read the trend may see. */
const PUBLIC_KEYS = new Set([
  "status",
  "trendStatus",
  "from",
  "to",
  "decision",
  "issueType",
  "source",
  "externalId",
  "title",
  "url",
  "bodyChars",
  "language",
  "embeddingStatus",
  "approvalPath",
  // The statement of reasons is the affected party's to read (DSA Art. 17).
  "reasonCode",
  "appealOf",
]);

function publicJson(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([key]) => PUBLIC_KEYS.has(key)));
}

/**
 * Reviewers do not see each other's decisions before the outcome (issue 14: k-of-n reviews are
 * independent); who reviewed and when stays visible, so the console can show "1 of 2".
 */
function hidePendingDecisions(
  value: unknown,
  source: unknown,
  caller: { keyId: string } | undefined,
): unknown {
  if ((source as { status?: unknown }).status === "RESOLVED" || !Array.isArray(value)) return value;
  return value.map((review: { reviewedBy?: { id?: string } }) =>
    review.reviewedBy?.id === caller?.keyId
      ? review
      : { ...review, decision: null, reasonCode: null, note: null },
  );
}

const roleOnly = (v: unknown) => (typeof v === "string" ? v.split(":")[0] : v);

/**
 * What `redact` fields show to a caller without the action: a value of the field's type that
 * tells nothing (the source object is the parent, for fields that need it).
 */
export const FIELD_REDACTIONS: Record<
  string,
  (value: unknown, source: unknown, caller: { keyId: string } | undefined) => unknown
> = {
  "Escalation.claimToken": () => "",
  "Escalation.claimedBy": () => null,
  "Escalation.claimExpiresAt": () => null,
  "Escalation.claimedByReviewer": () => null,
  "Resolution.resolvedByReviewer": () => null,
  "Escalation.reason": (_v, source) =>
    String((source as { issueType?: unknown }).issueType ?? "").toLowerCase(),
  "Escalation.rule": () => null,
  "Escalation.scores": () => ({}),
  "Escalation.appealStatement": () => null,
  "Escalation.precedents": () => [],
  "Resolution.note": () => null,
  "Escalation.reviews": hidePendingDecisions,
  "EscalationReview.reviewer": () => "moderator",
  "EscalationReview.reviewedBy": () => ({ id: "", name: "moderator" }),
  "EscalationReview.note": () => null,
  "Resolution.resolvedBy": () => "moderator",
  "PublishOverride.justification": () => "",
  "PublishOverride.operator": () => "operator",
  "Incident.rule": () => "policy",
  "Incident.reason": () => "policy violation",
  "Incident.provenance": () => [],
  "ProvenanceEntry.actor": roleOnly,
  "ProvenanceEntry.input": publicJson,
  "ProvenanceEntry.output": publicJson,
  "TrendUpdate.actor": () => null,
  "TrendUpdate.reason": () => null,
};

/** The callers of the authorization matrix (issue 12). */
export const CALLERS = [
  "integrator A",
  "integrator B",
  "moderator",
  "operator",
  "viewer",
  "no key",
  "wrong key",
  "revoked key",
] as const;
export type Caller = (typeof CALLERS)[number];

export type Outcome = "allowed" | "own tenant" | "FORBIDDEN" | "UNAUTHENTICATED" | "not served";

const ROLE_OF: Partial<Record<Caller, Role>> = {
  "integrator A": "integrator",
  "integrator B": "integrator",
  moderator: "moderator",
  operator: "operator",
  viewer: "viewer",
};

/**
 * What a caller gets from an operation, as the gateway enforces it and the doc states it.
 * "own tenant": allowed, limited to the caller's tenant (another tenant's item is NOT_FOUND).
 * A wrong or revoked key is UNAUTHENTICATED over HTTP; over WebSocket its socket closes with
 * 4403 instead (at connect, or before the next operation once revoked).
 */
export function expectedOutcome(rule: OperationRule | undefined, caller: Caller): Outcome {
  if (rule?.action === "public") return "allowed";
  if (rule?.action === "metrics token") return "not served";
  const role = ROLE_OF[caller];
  if (!role) return "UNAUTHENTICATED";
  if (!rule || !isAllowed(role, rule.action)) return "FORBIDDEN";
  return rule.tenant && role === "integrator" ? "own tenant" : "allowed";
}
