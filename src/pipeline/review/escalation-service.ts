import { sql, type Transaction } from "kysely";
import type { Db } from "../../db/database.js";
import { enqueueOutbox } from "../../db/outbox.js";
import type {
  Database,
  EscalationRow,
  EscalationStatus,
  IssueType,
} from "../../db/types.js";
import { tenantCondition } from "../../db/tenant-filter.js";
import { badInput, conflict, DomainError, notFound } from "../../domain/domain-error.js";
import type { TenantScope } from "../../domain/tenant-scope.js";
import type { Logger } from "../../observability/logger.js";
import { withItemSpan } from "../../observability/tracing.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import { decodeCursor } from "../../db/keyset-cursor.js";
import { assertUuid } from "../../domain/uuid.js";
import { isExcludedReviewer } from "./appeal-service.js";
import { recordFinalDecision } from "./final-decision.js";
import type { ReasonCodeTaxonomy } from "./reason-codes.js";

export type Decision = "APPROVE" | "REJECT";

export interface Actor {
  /** Who acts, as recorded in provenance and shown as claimedBy (the API key's name). */
  name: string;
  role: string;
  /** The key's id: claims and separation of duties compare it, never the name (defaults to name). */
  keyId?: string;
  /** The tenants the key may act on; null or absent = all. */
  tenants?: TenantScope;
}

const holderOf = (actor: Actor): string => actor.keyId ?? actor.name;

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
      /** REASON_CODES_PATH's taxonomy: REJECT needs a known code (budget overruns excepted). */
      reasonCodes: ReasonCodeTaxonomy;
    },
  ) {}

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
    await this.get(id, actor.tenants ?? null);
    const claimed = await this.deps.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable("escalations")
        .set(() => ({
          status: "CLAIMED",
          claimed_by: actor.name,
          claimed_by_key: holderOf(actor),
          claim_token: sql<string>`claim_token + 1`,
          claim_expires_at: sql<Date>`now() + ${`${this.deps.claimLeaseMs} milliseconds`}::interval`,
        }))
        .where("id", "=", id)
        .where((eb) =>
          eb.or([
            eb("status", "=", "OPEN"),
            eb.and([
              eb("status", "=", "CLAIMED"),
              eb.or([
                eb("claim_expires_at", "<", sql<Date>`now()`),
                eb("claimed_by_key", "=", holderOf(actor)),
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
        .set({ status: "OPEN", claimed_by: null, claimed_by_key: null, claim_expires_at: null })
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
   * Records the moderator's decision and its consequences in one transaction: the trend moves
   * (APPROVED/REJECTED, or for a budget overrun: resumed with more budget / CANCELLED),
   * provenance says who decided and why, and `hitl:resolution` announces it.
   */
  async resolve(
    id: string,
    input: { decision: Decision; reasonCode?: string | null; note?: string | null; claimToken?: string | null },
    actor: Actor,
  ): Promise<EscalationRow> {
    assertUuid(id, "id");
    if (input.decision !== "APPROVE" && input.decision !== "REJECT") {
      throw badInput("input.decision", "must be APPROVE or REJECT");
    }
    const note = input.note?.trim() || null;
    if (note && note.length > 5000) throw badInput("input.note", "must be at most 5000 characters");

    // The human decision is a step of the item's trace, like the pipeline's own steps.
    const item = await this.deps.db
      .selectFrom("escalations")
      .innerJoin("enriched_trends as t", "t.id", "escalations.trend_id")
      .select(["t.trace_id", "t.ingested_by_key", "escalations.issue_type", "escalations.excluded_reviewers"])
      .where("escalations.id", "=", id)
      .where(tenantCondition(actor.tenants ?? null, "t.tenant"))
      .executeTakeFirst();
    if (!item) throw notFound("escalation", id);
    if (isExcludedReviewer(item, holderOf(actor))) {
      throw new DomainError("FORBIDDEN", `escalation ${id}: you decided the item this appeal is about; another reviewer decides the appeal`, {
        reason: "DECIDED_THE_APPEALED_DECISION",
      });
    }
    // A budget overrun is an operational question (grant more or cancel), not a content decision.
    const reasonCode = item.issue_type === "budget_overrun" ? null : this.deps.reasonCodes.validate(input.decision, input.reasonCode);
    if (this.deps.separationOfDuties && item.ingested_by_key !== null && item.ingested_by_key === actor.keyId) {
      throw new DomainError("FORBIDDEN", `escalation ${id}: the key that ingested the item may not resolve it (separation of duties)`, {
        reason: "SEPARATION_OF_DUTIES",
      });
    }
    const resolved = await withItemSpan(
      "resolution",
      { traceId: item.trace_id },
      { "trendgate.escalation_id": id, "trendgate.decision": input.decision },
      () => this.resolveInTransaction(id, { ...input, reasonCode }, note, actor),
    );
    this.deps.logger.info(
      {
        escalation_id: id,
        enriched_trend_id: resolved.trend_id,
        decision: input.decision,
        moderator: actor.name,
      },
      "escalation resolved",
    );
    return resolved;
  }

  private resolveInTransaction(
    id: string,
    input: { decision: Decision; reasonCode: string | null; claimToken?: string | null },
    note: string | null,
    actor: Actor,
  ): Promise<EscalationRow> {
    return this.deps.db.transaction().execute(async (trx) => {
      // The lease is judged on the database's clock, the one that set it (no gateway skew).
      const current = await trx
        .selectFrom("escalations")
        .selectAll()
        .select(sql<boolean>`coalesce(claim_expires_at > now(), false)`.as("lease_active"))
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
      const leaseActive = current.status === "CLAIMED" && current.lease_active;
      if (input.claimToken != null && String(input.claimToken) !== String(current.claim_token)) {
        throw conflict(
          `claim token ${input.claimToken} is stale (current ${current.claim_token}); claim again`,
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
      return recordFinalDecision(trx, current, { decision: input.decision, reasonCode: input.reasonCode, note }, actor);
    });
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
