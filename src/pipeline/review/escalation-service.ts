import { sql, type Transaction } from "kysely";

import type { Db } from "../../db/database.js";
import { decodeCursor } from "../../db/keyset-cursor.js";
import { enqueueOutbox } from "../../db/outbox.js";
import { tenantCondition } from "../../db/tenant-filter.js";
import type { Database, EscalationRow, EscalationStatus, IssueType } from "../../db/types.js";
import { conflict, DomainError, notFound } from "../../domain/domain-error.js";
import { ANY_REVIEWER } from "../../domain/reviewer-profile.js";
import type { TenantScope } from "../../domain/tenant-scope.js";
import { assertUuid } from "../../domain/uuid.js";
import type { Logger } from "../../observability/logger.js";
import { withItemSpan } from "../../observability/tracing.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import { parsePolicy, type ReviewPolicy } from "../judge/judge-policy.js";
import { type Actor, claimantOf, holderOf } from "./actor.js";
import { type EligibilityRule, ineligibility } from "./eligibility.js";
import type { ReasonCodeTaxonomy } from "./reason-codes.js";
import { recordReview } from "./record-review.js";
import { type ResolutionInput, validateResolution } from "./resolution-input.js";
import { unclaimedStatus } from "./review-queries.js";
import { type Claimant, claimColumns, claimMostUrgent, lockReviewer } from "./routing.js";

export type { Actor, Decision } from "./actor.js";

const DEFAULT_REVIEW = parsePolicy({}).review;

/**
 * Moderation use cases: the queue, claims (a lease with a fencing token), and resolutions.
 * Every change takes the escalation's row lock, so of two racing moderators exactly one wins
 * and the other gets CONFLICT.
 */
export class EscalationService {
  constructor(
    private readonly deps: {
      db: Db;
      logger: Logger;
      claimLeaseMs: number;
      /** Refuse a resolution by the key that ingested the item (SEPARATION_OF_DUTIES). */
      separationOfDuties?: boolean;
      /** The review block of the Judge policy in force (default: one review, no skills). */
      reviewPolicy?: () => Promise<ReviewPolicy>;
      /** REASON_CODES_PATH's taxonomy: a REJECT needs a known code (budget overruns excepted). */
      reasonCodes: ReasonCodeTaxonomy;
    },
  ) {}

  /** The policy's review rules in force now. */
  reviewPolicy(): Promise<ReviewPolicy> {
    return this.deps.reviewPolicy?.() ?? Promise.resolve(DEFAULT_REVIEW);
  }

  /** One escalation; NOT_FOUND when unknown or its trend is outside `scope`. */
  async get(id: string, scope: TenantScope = null): Promise<EscalationRow> {
    assertUuid(id, "id");
    const row = await this.deps.db
      .selectFrom("escalations")
      .selectAll("escalations")
      .where("escalations.id", "=", id)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom("enriched_trends as t")
            .select("t.id")
            .whereRef("t.id", "=", "escalations.trend_id")
            .where(tenantCondition(scope, "t.tenant")),
        ),
      )
      .executeTakeFirst();
    if (!row) throw notFound("escalation", id);
    return row;
  }

  async list(options: {
    status?: EscalationStatus[];
    issueType?: IssueType[];
    source?: string;
    first: number;
    after?: string;
    scope?: TenantScope;
  }): Promise<{ rows: EscalationRow[]; hasNextPage: boolean; totalCount: number }> {
    let query = this.deps.db
      .selectFrom("escalations")
      .innerJoin("enriched_trends as t", "t.id", "escalations.trend_id")
      .where(tenantCondition(options.scope ?? null, "t.tenant"));
    if (options.status?.length) query = query.where("escalations.status", "in", options.status);
    if (options.issueType?.length)
      query = query.where("escalations.issue_type", "in", options.issueType);
    if (options.source) query = query.where("t.source", "=", options.source);
    const total = await query.select(sql<number>`count(*)::int`.as("n")).executeTakeFirst();
    let page = query.selectAll("escalations");
    if (options.after) {
      const cursor = decodeCursor(options.after);
      page = page.where((eb) =>
        eb.or([
          eb("escalations.created_at", ">", cursor.at),
          eb.and([
            eb("escalations.created_at", "=", cursor.at),
            eb("escalations.id", ">", cursor.id),
          ]),
        ]),
      );
    }
    const rows = await page
      .orderBy("escalations.created_at")
      .orderBy("escalations.id")
      .limit(options.first + 1)
      .execute();
    return {
      rows: rows.slice(0, options.first),
      hasNextPage: rows.length > options.first,
      totalCount: total?.n ?? 0,
    };
  }

  /**
   * Takes the escalation for this moderator for `claimLeaseMs`. An expired claim is free for the
   * taking; each claim increments the fencing token, so a resolution carrying an older token
   * (from a moderator whose lease lapsed and was taken over) is refused.
   */
  async claim(id: string, actor: Actor): Promise<EscalationRow> {
    const before = await this.get(id, actor.tenants ?? null);
    if (before.status === "RESOLVED")
      throw conflict(`escalation ${id} is already resolved`, { status: before.status });
    const review = await this.reviewPolicy();
    const claimant = claimantOf(actor);
    const claimed = await this.deps.db.transaction().execute(async (trx) => {
      await lockReviewer(trx, claimant.keyId);
      await this.assertEligible(trx, id, claimant, review, { exceptClaimOf: id });
      const row = await trx
        .updateTable("escalations")
        .set(claimColumns(claimant, this.deps.claimLeaseMs))
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
      if (row) await this.announceClaim(trx, row, "claimed", actor);
      return row;
    });
    if (claimed) return claimed;
    const current = await this.get(id);
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
  async claimNext(actor: Actor): Promise<EscalationRow | null> {
    const review = await this.reviewPolicy();
    return this.deps.db.transaction().execute(async (trx) => {
      const row = await claimMostUrgent(
        trx,
        claimantOf(actor),
        review,
        actor.tenants ?? null,
        this.deps.claimLeaseMs,
      );
      if (!row) return null;
      await this.announceClaim(trx, row, "claimed", actor);
      return row;
    });
  }

  /** FORBIDDEN saying why, when the reviewer may not review (or claim) this escalation. */
  private async assertEligible(
    trx: Transaction<Database>,
    id: string,
    claimant: Claimant,
    review: ReviewPolicy,
    options: { skip?: readonly EligibilityRule[]; exceptClaimOf?: string },
  ): Promise<void> {
    const refused = await ineligibility(trx, id, claimant, review, options);
    if (refused) {
      throw new DomainError("FORBIDDEN", `escalation ${id}: ${refused.message}`, {
        reason: "NOT_ELIGIBLE",
        rule: refused.rule,
      });
    }
  }

  /** Gives a claim back to the queue; only its holder (or an operator) may. */
  async release(id: string, actor: Actor): Promise<EscalationRow> {
    const current = await this.get(id, actor.tenants ?? null);
    if (current.status !== "CLAIMED")
      throw conflict(`escalation ${id} is not claimed`, { status: current.status });
    if (current.claimed_by_key !== holderOf(actor) && actor.role !== "operator") {
      throw new DomainError("FORBIDDEN", `escalation ${id} is claimed by ${current.claimed_by}`);
    }
    const released = await this.deps.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable("escalations")
        .set({
          status: unclaimedStatus(),
          claimed_by: null,
          claimed_by_key: null,
          claim_expires_at: null,
        })
        .where("id", "=", id)
        .where("status", "=", "CLAIMED")
        .where("claim_token", "=", current.claim_token)
        .returningAll()
        .executeTakeFirst();
      if (row) await this.announceClaim(trx, row, "released", actor);
      return row;
    });
    if (!released) throw conflict(`escalation ${id} changed while releasing; reload it`);
    return released;
  }

  /**
   * Records one reviewer's decision (k-of-n, see consensus.ts). When it settles the outcome, the
   * outcome and its consequences are written in the same transaction (final-decision.ts);
   * otherwise the escalation is IN_REVIEW, free for the next reviewer. CONFLICT when already
   * resolved, claimed by another, or already reviewed by this key; FORBIDDEN when the reviewer
   * is not eligible.
   */
  async resolve(id: string, rawInput: ResolutionInput, actor: Actor): Promise<EscalationRow> {
    assertUuid(id, "id");
    const valid = validateResolution(rawInput);

    // The human decision is a step of the item's trace, like the pipeline's own steps.
    const item = await this.deps.db
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
            reasonCode: this.deps.reasonCodes.validate(valid.decision, valid.reasonCode),
          };
    if (
      this.deps.separationOfDuties &&
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
    const review = await this.reviewPolicy();
    const resolved = await withItemSpan(
      "resolution",
      { traceId: item.trace_id },
      { "trendgate.escalation_id": id, "trendgate.decision": input.decision },
      () =>
        this.deps.db.transaction().execute(async (trx) => {
          const current = await this.lockForReview(trx, id, input.claimToken, actor);
          if (!current.holdsLease) {
            // Without a claim the reviewer must still be one routing would have chosen.
            await this.assertEligible(trx, id, claimantOf(actor), review, {
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
    this.deps.logger.info(
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
  private async lockForReview(
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

  /** Claims travel on the escalation stream too, so every moderator's queue shows who holds what. */
  private async announceClaim(
    trx: Transaction<Database>,
    row: EscalationRow,
    what: "claimed" | "released",
    actor: Actor,
  ): Promise<void> {
    const trend = await trx
      .selectFrom("enriched_trends")
      .select("trace_id")
      .where("id", "=", row.trend_id)
      .executeTakeFirstOrThrow();
    await enqueueOutbox(
      trx,
      STREAMS.escalations,
      makeEnvelope(`escalation.${what}`, {
        traceId: trend.trace_id,
        trendId: row.trend_id,
        payload: {
          escalationId: row.id,
          claimedBy: row.claimed_by,
          claimToken: String(row.claim_token),
          by: actor.name,
        },
      }),
    );
    this.deps.logger.info({ escalation_id: row.id, moderator: actor.name }, `escalation ${what}`);
  }
}
