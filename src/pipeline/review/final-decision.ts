import { sql, type Transaction } from "kysely";

import { enqueueOutbox } from "../../db/outbox.js";
import { appendProvenance } from "../../db/provenance.js";
import type { Database, EscalationReviewRow, EscalationRow, TrendStatus } from "../../db/types.js";
import { transitionTrend } from "../../services/trend-lifecycle.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import { enqueueWebhookEvent } from "../../webhooks/webhook-event.js";
import type { Actor, Decision } from "./actor.js";
import { resolveBudgetOverrun } from "./budget-resolution.js";

/** The outcome of an escalation and who settled it (the last reviewer, or the decider). */
export interface FinalDecision {
  decision: Decision;
  note: string | null;
  reasonCode: string | null;
  /**
   * How it was reached: `agreement` of requiredReviews, the `decider` after a disagreement, or a
   * `deadline` ladder's default action (no reviews).
   */
  by: "agreement" | "decider" | "deadline";
  required: number;
  /** The counted reviews that led to it, oldest first. */
  reviews: readonly EscalationReviewRow[];
  /** Added to the resolution's provenance input (a deadline's rule and rung). */
  provenance?: Record<string, unknown>;
}

/**
 * Writes an escalation's outcome and its consequences, in the caller's transaction: the trend
 * moves (APPROVED/REJECTED, or for a budget overrun: resumed with more budget / CANCELLED), an
 * approval queues the publisher's job, provenance records the decision with every review behind
 * it, and `hitl:resolution` announces it. Called once per escalation: the row is RESOLVED after.
 */
export async function applyFinalDecision(
  trx: Transaction<Database>,
  id: string,
  final: FinalDecision,
  actor: Actor & { keyId: string },
): Promise<EscalationRow> {
  const row = await trx
    .updateTable("escalations")
    .set({
      status: "RESOLVED",
      decision: final.decision,
      reason_code: final.reasonCode,
      note: final.note,
      resolved_by: actor.name,
      resolved_by_key: actor.keyId,
      resolved_at: sql<Date>`now()`,
      claim_expires_at: null,
    })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const trend = await trx
    .selectFrom("enriched_trends")
    .selectAll()
    .where("id", "=", row.trend_id)
    .executeTakeFirstOrThrow();

  let trendOutcome: TrendStatus | null;
  if (row.issue_type === "budget_overrun") {
    trendOutcome = await resolveBudgetOverrun(trx, trend, final.decision, actor);
  } else {
    const to = final.decision === "APPROVE" ? "APPROVED" : "REJECTED";
    const moved = await transitionTrend(
      trx,
      trend.id,
      ["ESCALATED"],
      to,
      {},
      {
        actor: actor.name,
        reason:
          final.note ??
          `${actor.role === "system" ? actor.name : "moderator"} ${final.decision.toLowerCase()}d`,
      },
    );
    trendOutcome = moved ? to : null;
    if (moved && to === "APPROVED") {
      // The publisher's job, in the same transaction as the decision. It is a job of its own
      // (not the hitl:resolution event) so a failed publish dead-letters to
      // trend:publish:dlq and replays like any other, without re-announcing the decision.
      await enqueueOutbox(
        trx,
        STREAMS.publishJobs,
        makeEnvelope("trend.approved", {
          traceId: trend.trace_id,
          trendId: trend.id,
          payload: {
            trendId: trend.id,
            approvalPath: "moderator",
            escalationId: id,
            reasonCode: final.reasonCode,
          },
        }),
      );
    }
  }
  await appendProvenance(trx, {
    traceId: trend.trace_id,
    trendId: trend.id,
    step: "resolution",
    // A reviewer is `moderator:<name>`; the system (a deadline's default action) names itself.
    actor: actor.role === "system" ? actor.name : `moderator:${actor.name}`,
    input: {
      escalationId: id,
      issueType: row.issue_type,
      decision: final.decision,
      reasonCode: final.reasonCode,
      note: final.note,
      role: actor.role,
      reviewer: { id: actor.keyId, name: actor.name },
      consensus: { by: final.by, required: final.required },
      reviews: final.reviews.map((r) => ({
        reviewer: { id: r.reviewer_key_id, name: r.reviewer_name },
        decision: r.decision,
        reasonCode: r.reason_code,
        note: r.note,
        at: r.at,
      })),
      ...final.provenance,
    },
    output: { trendStatus: trendOutcome },
  });
  await enqueueOutbox(
    trx,
    STREAMS.resolutions,
    makeEnvelope("escalation.resolved", {
      traceId: trend.trace_id,
      trendId: trend.id,
      payload: {
        escalationId: id,
        trendId: trend.id,
        decision: final.decision,
        reasonCode: final.reasonCode,
        issueType: row.issue_type,
        resolvedBy: actor.name,
        resolvedByKey: actor.keyId,
        reviews: final.reviews.length,
      },
    }),
  );
  await enqueueWebhookEvent(trx, {
    type: "escalation.resolved",
    traceId: trend.trace_id,
    trendId: trend.id,
    data: {
      escalationId: id,
      trendId: trend.id,
      issueType: row.issue_type,
      decision: final.decision,
      reasonCode: final.reasonCode,
      trendStatus: trendOutcome,
    },
  });
  return row;
}
