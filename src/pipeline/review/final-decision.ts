import { sql, type Transaction } from "kysely";
import { enqueueOutbox } from "../../db/outbox.js";
import { appendProvenance } from "../../db/provenance.js";
import type { Database, EscalationRow, TrendStatus } from "../../db/types.js";
import { transitionTrend } from "../../services/trend-lifecycle.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import { enqueueWebhookEvent } from "../../webhooks/webhook-event.js";
import { resolveBudgetOverrun } from "./budget-resolution.js";
import type { Actor, Decision } from "./escalation-service.js";

export interface FinalDecision {
  decision: Decision;
  reasonCode: string | null;
  note: string | null;
  /** Added to the resolution's provenance input (e.g. the deadline rule that decided). */
  provenance?: Record<string, unknown>;
}

/**
 * Records the decision that ends an escalation and its consequences, in the caller's transaction
 * (which holds the escalation's row lock): the escalation is RESOLVED with its reason code, the
 * trend moves (APPROVED/REJECTED, or for a budget overrun: resumed with more budget / CANCELLED),
 * an APPROVE enqueues the publisher's job, provenance says who decided and why, and
 * `hitl:resolution` and the `escalation.resolved` webhook announce it. A reviewer's decision and
 * a deadline's default action (`system:deadline`) both end here, so they cannot differ.
 */
export async function recordFinalDecision(
  trx: Transaction<Database>,
  current: Pick<EscalationRow, "id">,
  input: FinalDecision,
  actor: Actor,
): Promise<EscalationRow> {
  const row = await trx
    .updateTable("escalations")
    .set({
      status: "RESOLVED",
      decision: input.decision,
      reason_code: input.reasonCode,
      note: input.note,
      resolved_by: actor.name,
      resolved_by_key: actor.keyId ?? actor.name,
      resolved_at: sql<Date>`now()`,
      claim_expires_at: null,
    })
    .where("id", "=", current.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const trend = await trx
    .selectFrom("enriched_trends")
    .selectAll()
    .where("id", "=", row.trend_id)
    .executeTakeFirstOrThrow();

  let trendOutcome: TrendStatus | null;
  if (row.issue_type === "budget_overrun") {
    trendOutcome = await resolveBudgetOverrun(trx, trend, input.decision, actor);
  } else {
    const to = input.decision === "APPROVE" ? "APPROVED" : "REJECTED";
    const moved = await transitionTrend(
      trx,
      trend.id,
      ["ESCALATED"],
      to,
      {},
      {
        actor: actor.name,
        reason:
          input.note ??
          `${actor.role === "system" ? actor.name : "moderator"} ${input.decision.toLowerCase()}d`,
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
            escalationId: current.id,
            reasonCode: input.reasonCode,
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
      escalationId: current.id,
      issueType: row.issue_type,
      decision: input.decision,
      reasonCode: input.reasonCode,
      note: input.note,
      role: actor.role,
      ...input.provenance,
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
        escalationId: current.id,
        trendId: trend.id,
        decision: input.decision,
        reasonCode: input.reasonCode,
        issueType: row.issue_type,
        resolvedBy: actor.name,
      },
    }),
  );
  await enqueueWebhookEvent(trx, {
    type: "escalation.resolved",
    traceId: trend.trace_id,
    trendId: trend.id,
    data: {
      escalationId: current.id,
      trendId: trend.id,
      issueType: row.issue_type,
      decision: input.decision,
      reasonCode: input.reasonCode,
      trendStatus: trendOutcome,
    },
  });
  return row;
}
