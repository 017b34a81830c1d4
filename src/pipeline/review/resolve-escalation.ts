import { sql, type Transaction } from "kysely";

import type { Db } from "../../db/database.js";
import { tenantCondition } from "../../db/tenant-filter.js";
import type { Database, EscalationRow } from "../../db/types.js";
import { conflict, DomainError, notFound } from "../../domain/domain-error.js";
import { ANY_REVIEWER } from "../../domain/reviewer-profile.js";
import { assertUuid } from "../../domain/uuid.js";
import type { Logger } from "../../observability/logger.js";
import { withItemSpan } from "../../observability/tracing.js";
import type { ReviewPolicy } from "../judge/judge-policy.js";
import { type Actor, claimantOf, holderOf } from "./actor.js";
import { assertEligible } from "./eligibility.js";
import type { ReasonCodeTaxonomy } from "./reason-codes.js";
import { recordReview } from "./record-review.js";
import { type ResolutionInput, validateResolution } from "./resolution-input.js";

export interface ResolveDeps {
  db: Db;
  logger: Logger;
  /** Refuse a resolution by the key that ingested the item (SEPARATION_OF_DUTIES). */
  separationOfDuties?: boolean;
  /** The review block of the Judge policy in force. */
  reviewPolicy: () => Promise<ReviewPolicy>;
  /** REASON_CODES_PATH's taxonomy: a REJECT needs a known code (budget overruns excepted). */
  reasonCodes: ReasonCodeTaxonomy;
}

/**
 * Records one reviewer's decision (k-of-n, see consensus.ts). When it settles the outcome, the
 * outcome and its consequences are written in the same transaction (final-decision.ts);
 * otherwise the escalation is IN_REVIEW, free for the next reviewer. CONFLICT when already
 * resolved, claimed by another, or already reviewed by this key; FORBIDDEN when the reviewer
 * is not eligible.
 */
export async function resolveEscalation(
  deps: ResolveDeps,
  id: string,
  rawInput: ResolutionInput,
  actor: Actor,
): Promise<EscalationRow> {
  assertUuid(id, "id");
  const valid = validateResolution(rawInput);

  // The human decision is a step of the item's trace, like the pipeline's own steps.
  const item = await deps.db
    .selectFrom("escalations")
    .innerJoin("enriched_trends as t", "t.id", "escalations.trend_id")
    .select(["t.trace_id", "t.ingested_by_key", "escalations.issue_type"])
    .where("escalations.id", "=", id)
    .where(tenantCondition(actor.tenants ?? null, "t.tenant"))
    .executeTakeFirst();
  if (!item) throw notFound("escalation", id);
  // The reason-code taxonomy (reason-codes.ts). A budget overrun is an operational question
  // (grant more or cancel), not a content decision, so it needs no code.
  const input =
    item.issue_type === "budget_overrun"
      ? valid
      : {
          ...valid,
          reasonCode: deps.reasonCodes.validate(valid.decision, valid.reasonCode),
        };
  if (
    deps.separationOfDuties &&
    item.ingested_by_key !== null &&
    item.ingested_by_key === actor.keyId
  ) {
    throw new DomainError(
      "FORBIDDEN",
      `escalation ${id}: the key that ingested the item may not resolve it (separation of duties)`,
      {
        reason: "SEPARATION_OF_DUTIES",
      },
    );
  }
  const review = await deps.reviewPolicy();
  const resolved = await withItemSpan(
    "resolution",
    { traceId: item.trace_id },
    { "trendgate.escalation_id": id, "trendgate.decision": input.decision },
    () =>
      deps.db.transaction().execute(async (trx) => {
        const current = await lockForReview(trx, id, input.claimToken, actor);
        if (!current.holdsLease) {
          // Without a claim the reviewer must still be one routing would have chosen.
          await assertEligible(trx, id, claimantOf(actor), review, {
            skip: ["underCapacity", "notReviewed"],
          });
        }
        return recordReview(
          trx,
          current.row,
          input,
          { ...actor, keyId: holderOf(actor), profile: actor.profile ?? ANY_REVIEWER },
          review,
        );
      }),
  );
  deps.logger.info(
    {
      escalation_id: id,
      enriched_trend_id: resolved.trend_id,
      decision: input.decision,
      moderator: actor.name,
      status: resolved.status,
    },
    resolved.status === "RESOLVED" ? "escalation resolved" : "escalation reviewed",
  );
  return resolved;
}

/**
 * Locks the escalation for a review and checks the claim: CONFLICT when resolved, reviewed by
 * this key already, claimed (under a live lease) by another, or the claim token is stale.
 */
async function lockForReview(
  trx: Transaction<Database>,
  id: string,
  claimToken: string | null,
  actor: Actor,
): Promise<{ row: EscalationRow; holdsLease: boolean }> {
  // The lease is judged on the database's clock, the one that set it (no gateway skew).
  const current = await trx
    .selectFrom("escalations")
    .selectAll()
    .select(sql<boolean>`coalesce(claim_expires_at > now(), false)`.as("lease_active"))
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom("escalation_reviews as r")
            .select("r.at")
            .whereRef("r.escalation_id", "=", "escalations.id")
            .where("r.reviewer_key_id", "=", holderOf(actor)),
        )
        .as("reviewed_by_me"),
    )
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  if (!current) throw notFound("escalation", id);
  if (current.status === "RESOLVED") {
    throw conflict(`escalation ${id} was already resolved by ${current.resolved_by}`, {
      resolvedBy: current.resolved_by,
      decision: current.decision,
    });
  }
  if (current.reviewed_by_me) {
    throw conflict(
      `escalation ${id}: ${actor.name} has already reviewed it; another reviewer must`,
      { reason: "ALREADY_REVIEWED" },
    );
  }
  const leaseActive = current.status === "CLAIMED" && current.lease_active;
  if (claimToken != null && String(claimToken) !== String(current.claim_token)) {
    throw conflict(
      `claim token ${claimToken} is stale (current ${current.claim_token}); claim again`,
      {
        claimToken: current.claim_token,
      },
    );
  }
  if (leaseActive && current.claimed_by_key !== holderOf(actor)) {
    throw conflict(`escalation ${id} is claimed by ${current.claimed_by}`, {
      claimedBy: current.claimed_by,
    });
  }
  const { lease_active: _lease, reviewed_by_me: _reviewed, ...row } = current;
  return { row, holdsLease: leaseActive };
}
