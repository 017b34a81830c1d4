import { type Kysely, type RawBuilder, sql, type Transaction } from "kysely";

import type { Database, EscalationReviewRow, EscalationStatus } from "../../db/types.js";
import type { Decision } from "./actor.js";

/**
 * The rows of escalation_reviews (k-of-n consensus, issue 14): one per (escalation, reviewer
 * key). All SQL on the table lives here.
 */

/** Records one reviewer's decision; false when this key already reviewed the escalation. */
export async function insertReview(
  trx: Transaction<Database>,
  review: {
    escalationId: string;
    keyId: string;
    name: string;
    decision: Decision;
    reasonCode: string | null;
    note: string | null;
  },
): Promise<boolean> {
  const inserted = await trx
    .insertInto("escalation_reviews")
    .values({
      escalation_id: review.escalationId,
      reviewer_key_id: review.keyId,
      reviewer_name: review.name,
      decision: review.decision,
      reason_code: review.reasonCode,
      note: review.note,
    })
    .onConflict((oc) => oc.columns(["escalation_id", "reviewer_key_id"]).doNothing())
    .returning("escalation_id")
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function hasReviewed(
  db: Kysely<Database>,
  escalationId: string,
  keyId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom("escalation_reviews")
    .select("at")
    .where("escalation_id", "=", escalationId)
    .where("reviewer_key_id", "=", keyId)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Reviews whose key was revoked before the outcome stop counting (a revoked reviewer's word is
 * not trusted for a decision still open). Runs inside the resolving transaction, before counting.
 */
export async function discountRevokedReviews(
  trx: Transaction<Database>,
  escalationId: string,
): Promise<void> {
  await trx
    .updateTable("escalation_reviews")
    .set({ counted: false })
    .where("escalation_id", "=", escalationId)
    .where("counted", "=", true)
    .where(revokedKey("escalation_reviews.reviewer_key_id"))
    .execute();
}

/** The reviews that count towards the outcome, oldest first. */
export function countedReviews(
  trx: Transaction<Database>,
  escalationId: string,
): Promise<EscalationReviewRow[]> {
  return trx
    .selectFrom("escalation_reviews")
    .selectAll()
    .where("escalation_id", "=", escalationId)
    .where("counted", "=", true)
    .orderBy("at")
    .orderBy("reviewer_key_id")
    .execute();
}

/**
 * Reviews of several escalations (a DataLoader's batch), oldest first. Before the outcome a
 * review by a key revoked since shows as not counted already, as the next resolution will record.
 */
export async function reviewsOf(
  db: Kysely<Database>,
  escalationIds: readonly string[],
): Promise<EscalationReviewRow[]> {
  if (escalationIds.length === 0) return [];
  return db
    .selectFrom("escalation_reviews as r")
    .innerJoin("escalations as e", "e.id", "r.escalation_id")
    .select([
      "r.escalation_id",
      "r.reviewer_key_id",
      "r.reviewer_name",
      "r.decision",
      "r.reason_code",
      "r.note",
      "r.at",
      sql<boolean>`r.counted AND (e.status = 'RESOLVED' OR NOT ${revokedKey("r.reviewer_key_id")})`.as(
        "counted",
      ),
    ])
    .where("r.escalation_id", "in", escalationIds)
    .orderBy("r.at")
    .orderBy("r.reviewer_key_id")
    .execute();
}

/** A stored key of this id was revoked (configured keys, `config-…`, are never in api_keys). */
function revokedKey(column: string): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (SELECT 1 FROM api_keys k WHERE k.id::text = ${sql.ref(column)} AND k.revoked_at IS NOT NULL)`;
}

/** The claim columns of an escalation whose claim ends (released, expired, reviewed or moved). */
export const NO_CLAIM = { claimed_by: null, claimed_by_key: null, claim_expires_at: null } as const;

/**
 * The status an escalation returns to when its claim ends without an outcome: IN_REVIEW once
 * someone reviewed it, otherwise OPEN. For UPDATEs of `escalations`.
 */
export function unclaimedStatus(): RawBuilder<EscalationStatus> {
  return sql<EscalationStatus>`CASE WHEN EXISTS (
    SELECT 1 FROM escalation_reviews r WHERE r.escalation_id = escalations.id) THEN 'IN_REVIEW' ELSE 'OPEN' END`;
}

/**
 * The key ids of the reviewers who decided an escalation: every reviewer of it (counted or not:
 * they all saw it) and the key that recorded the outcome, so an appeal goes to someone else.
 */
export async function decidedReviewers(
  trx: Transaction<Database>,
  decided: { id: string; resolved_by_key: string | null },
): Promise<string[]> {
  const rows = await trx
    .selectFrom("escalation_reviews")
    .select("reviewer_key_id")
    .where("escalation_id", "=", decided.id)
    .execute();
  const keys = new Set(rows.map((r) => r.reviewer_key_id));
  if (decided.resolved_by_key) keys.add(decided.resolved_by_key);
  return [...keys];
}
