import type { Transaction } from "kysely";

import { enqueueOutbox } from "../../db/outbox.js";
import { traceIdOf } from "../../db/trend-queries.js";
import type { Database, EscalationRow } from "../../db/types.js";
import { conflict } from "../../domain/domain-error.js";
import type { ReviewerProfile } from "../../domain/reviewer-profile.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { ReviewPolicy } from "../judge/judge-policy.js";
import type { Actor } from "./actor.js";
import { consensus, requiredReviews } from "./consensus.js";
import { applyFinalDecision } from "./final-decision.js";
import type { ValidResolution } from "./resolution-input.js";
import {
  countedReviews,
  discountRevokedReviews,
  insertReview,
  NO_CLAIM,
} from "./review-queries.js";

/**
 * One reviewer's decision on a locked, unresolved escalation: the review row, then consensus
 * over the reviews that count (revoked keys' reviews stop counting first). Either the outcome is
 * settled and written ({@link applyFinalDecision}, the one `hitl:resolution`), or the escalation
 * becomes IN_REVIEW, unclaimed for the next reviewer, and its queue hears that a review came in
 * (how many of how many, never the decision: reviewers must not see each other's before the
 * outcome).
 */
export async function recordReview(
  trx: Transaction<Database>,
  row: EscalationRow,
  input: ValidResolution,
  reviewer: Actor & { keyId: string; profile: ReviewerProfile },
  review: ReviewPolicy,
): Promise<EscalationRow> {
  const inserted = await insertReview(trx, {
    escalationId: row.id,
    keyId: reviewer.keyId,
    name: reviewer.name,
    decision: input.decision,
    reasonCode: input.reasonCode,
    note: input.note,
  });
  if (!inserted)
    throw conflict(
      `escalation ${row.id}: ${reviewer.name} has already reviewed it; another reviewer must`,
      { reason: "ALREADY_REVIEWED" },
    );
  await discountRevokedReviews(trx, row.id);
  const reviews = await countedReviews(trx, row.id);
  const required = requiredReviews(review, row.issue_type);
  const outcome = consensus({
    reviews,
    latest: { decision: input.decision, skills: reviewer.profile.skills },
    required,
    deciderSkill: row.decider_skill,
    escalateDisagreementTo: review.escalateDisagreementTo,
  });
  if (outcome.kind === "final") {
    return applyFinalDecision(
      trx,
      row.id,
      {
        decision: outcome.decision,
        note: input.note,
        reasonCode: input.reasonCode,
        by: outcome.by,
        required,
        reviews,
      },
      reviewer,
    );
  }
  const updated = await trx
    .updateTable("escalations")
    .set({
      status: "IN_REVIEW",
      ...NO_CLAIM,
      decider_skill: outcome.deciderSkill,
    })
    .where("id", "=", row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const traceId = await traceIdOf(trx, row.trend_id);
  await enqueueOutbox(
    trx,
    STREAMS.escalations,
    makeEnvelope("escalation.reviewed", {
      traceId,
      trendId: row.trend_id,
      payload: {
        escalationId: row.id,
        trendId: row.trend_id,
        issueType: row.issue_type,
        status: "IN_REVIEW",
        received: reviews.length,
        required,
        deciderSkill: outcome.deciderSkill,
        by: reviewer.name,
      },
    }),
  );
  return updated;
}
