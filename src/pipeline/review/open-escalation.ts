import { randomUUID } from "node:crypto";

import type { Transaction } from "kysely";

import { enqueueOutbox } from "../../db/outbox.js";
import type { Database, IssueType, TrendRow } from "../../db/types.js";
import { currentTraceparent, withItemSpan } from "../../observability/tracing.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import { enqueueWebhookEvent } from "../../webhooks/webhook-event.js";

/** What the caller decided a human must look at; `event` adds fields to the announcement. */
export interface EscalationToOpen {
  issueType: IssueType;
  reason: string;
  rule: string;
  scores: Record<string, unknown>;
  event?: Record<string, unknown>;
  /** For an appeal: the decided escalation it reopens, who appealed and who may not review it. */
  appeal?: { of: string; byKey: string; statement: string; excludedReviewers: string[] };
}

/**
 * Opens an escalation for a human and announces it on `judge:escalations`, in the caller's
 * transaction. At most one unresolved escalation of a kind exists per trend (a unique index), so
 * a redelivered job opens nothing new and announces nothing: it gets undefined back.
 */
export function openEscalation(
  trx: Transaction<Database>,
  trend: Pick<TrendRow, "id" | "trace_id">,
  escalation: EscalationToOpen,
): Promise<string | undefined> {
  // An `escalation` span in the item's trace; the event below carries it as its parent.
  const active = currentTraceparent();
  const traceparent = active?.slice(3, 35) === trend.trace_id ? active : undefined;
  return withItemSpan(
    "escalation",
    { traceId: trend.trace_id, traceparent },
    { "trendgate.issue_type": escalation.issueType },
    () => insertAndAnnounce(trx, trend, escalation),
  );
}

async function insertAndAnnounce(
  trx: Transaction<Database>,
  trend: Pick<TrendRow, "id" | "trace_id">,
  escalation: EscalationToOpen,
): Promise<string | undefined> {
  const inserted = await trx
    .insertInto("escalations")
    .values({
      id: randomUUID(),
      trend_id: trend.id,
      issue_type: escalation.issueType,
      reason: escalation.reason,
      rule: escalation.rule,
      scores: JSON.stringify(escalation.scores),
      ...(escalation.appeal && {
        appeal_of: escalation.appeal.of,
        appealed_by_key: escalation.appeal.byKey,
        appeal_statement: escalation.appeal.statement,
        excluded_reviewers: escalation.appeal.excludedReviewers,
      }),
    })
    .onConflict((oc) =>
      oc.columns(["trend_id", "issue_type"]).where("status", "<>", "RESOLVED").doNothing(),
    )
    .returning("id")
    .executeTakeFirst();
  if (!inserted) return undefined;
  await enqueueOutbox(
    trx,
    STREAMS.escalations,
    makeEnvelope("escalation.created", {
      traceId: trend.trace_id,
      trendId: trend.id,
      payload: {
        trendId: trend.id,
        escalationId: inserted.id,
        issueType: escalation.issueType,
        ...escalation.event,
      },
    }),
  );
  await enqueueWebhookEvent(trx, {
    type: "escalation.created",
    traceId: trend.trace_id,
    trendId: trend.id,
    data: { escalationId: inserted.id, trendId: trend.id, issueType: escalation.issueType },
  });
  return inserted.id;
}
