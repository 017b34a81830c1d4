import { sql, type Transaction } from "kysely";

import type { Db } from "../../db/database.js";
import { enqueueOutbox } from "../../db/outbox.js";
import { traceIdOf } from "../../db/trend-queries.js";
import type { Database, EscalationRow } from "../../db/types.js";
import { conflict, DomainError } from "../../domain/domain-error.js";
import type { Logger } from "../../observability/logger.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { ReviewPolicy } from "../judge/judge-policy.js";
import { type Actor, claimantOf, holderOf } from "./actor.js";
import { assertEligible } from "./eligibility.js";
import { getEscalation } from "./escalation-queries.js";
import { NO_CLAIM, unclaimedStatus } from "./review-queries.js";
import { claimColumns, claimMostUrgent, lockReviewer } from "./routing.js";

/**
 * Claims: a lease on an escalation with a fencing token (claim_token). Every change takes the
 * escalation's row lock, so of two racing moderators exactly one wins and the other gets CONFLICT.
 */
export interface ClaimDeps {
  db: Db;
  logger: Logger;
  claimLeaseMs: number;
  /** The review block of the Judge policy in force. */
  reviewPolicy: () => Promise<ReviewPolicy>;
}

/**
 * Takes the escalation for this moderator for `claimLeaseMs`. An expired claim is free for the
 * taking; each claim increments the fencing token, so a resolution carrying an older token
 * (from a moderator whose lease lapsed and was taken over) is refused.
 */
export async function claimEscalation(
  deps: ClaimDeps,
  id: string,
  actor: Actor,
): Promise<EscalationRow> {
  const before = await getEscalation(deps.db, id, actor.tenants ?? null);
  if (before.status === "RESOLVED")
    throw conflict(`escalation ${id} is already resolved`, { status: before.status });
  const review = await deps.reviewPolicy();
  const claimant = claimantOf(actor);
  const claimed = await deps.db.transaction().execute(async (trx) => {
    await lockReviewer(trx, claimant.keyId);
    await assertEligible(trx, id, claimant, review, { exceptClaimOf: id });
    const row = await trx
      .updateTable("escalations")
      .set(claimColumns(claimant, deps.claimLeaseMs))
      .where("id", "=", id)
      .where((eb) =>
        eb.or([
          eb("status", "in", ["OPEN", "IN_REVIEW"]),
          eb.and([
            eb("status", "=", "CLAIMED"),
            eb.or([
              eb("claim_expires_at", "<", sql<Date>`now()`),
              eb("claimed_by_key", "=", claimant.keyId),
            ]),
          ]),
        ]),
      )
      .returningAll()
      .executeTakeFirst();
    if (row) await announceClaim(trx, deps.logger, row, "claimed", actor);
    return row;
  });
  if (claimed) return claimed;
  const current = await getEscalation(deps.db, id);
  if (current.status === "RESOLVED")
    throw conflict(`escalation ${id} is already resolved`, { status: current.status });
  throw conflict(`escalation ${id} is claimed by ${current.claimed_by}`, {
    claimedBy: current.claimed_by,
  });
}

/**
 * Claims the most urgent escalation the caller is eligible for (see eligibility.ts and
 * routing.ts), or returns null when there is none. Concurrent callers never get the same one.
 */
export async function claimNextEscalation(
  deps: ClaimDeps,
  actor: Actor,
): Promise<EscalationRow | null> {
  const review = await deps.reviewPolicy();
  return deps.db.transaction().execute(async (trx) => {
    const row = await claimMostUrgent(
      trx,
      claimantOf(actor),
      review,
      actor.tenants ?? null,
      deps.claimLeaseMs,
    );
    if (!row) return null;
    await announceClaim(trx, deps.logger, row, "claimed", actor);
    return row;
  });
}

/** Gives a claim back to the queue; only its holder (or an operator) may. */
export async function releaseEscalation(
  deps: ClaimDeps,
  id: string,
  actor: Actor,
): Promise<EscalationRow> {
  const current = await getEscalation(deps.db, id, actor.tenants ?? null);
  if (current.status !== "CLAIMED")
    throw conflict(`escalation ${id} is not claimed`, { status: current.status });
  if (current.claimed_by_key !== holderOf(actor) && actor.role !== "operator") {
    throw new DomainError("FORBIDDEN", `escalation ${id} is claimed by ${current.claimed_by}`);
  }
  const released = await deps.db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable("escalations")
      .set({
        status: unclaimedStatus(),
        ...NO_CLAIM,
      })
      .where("id", "=", id)
      .where("status", "=", "CLAIMED")
      .where("claim_token", "=", current.claim_token)
      .returningAll()
      .executeTakeFirst();
    if (row) await announceClaim(trx, deps.logger, row, "released", actor);
    return row;
  });
  if (!released) throw conflict(`escalation ${id} changed while releasing; reload it`);
  return released;
}

/** Claims travel on the escalation stream too, so every moderator's queue shows who holds what. */
async function announceClaim(
  trx: Transaction<Database>,
  logger: Logger,
  row: EscalationRow,
  what: "claimed" | "released",
  actor: Actor,
): Promise<void> {
  const traceId = await traceIdOf(trx, row.trend_id);
  await enqueueOutbox(
    trx,
    STREAMS.escalations,
    makeEnvelope(`escalation.${what}`, {
      traceId,
      trendId: row.trend_id,
      payload: {
        escalationId: row.id,
        claimedBy: row.claimed_by,
        claimToken: String(row.claim_token),
        by: actor.name,
      },
    }),
  );
  logger.info({ escalation_id: row.id, moderator: actor.name }, `escalation ${what}`);
}
