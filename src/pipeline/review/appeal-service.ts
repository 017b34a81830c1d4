import type { Db } from "../../db/database.js";
import { appendProvenance } from "../../db/provenance.js";
import type { EscalationRow } from "../../db/types.js";
import { badInput, conflict, DomainError, notFound } from "../../domain/domain-error.js";
import { assertUuid } from "../../domain/uuid.js";
import type { Logger } from "../../observability/logger.js";
import { transitionTrend } from "../../services/trend-lifecycle.js";
import { enqueueWebhookEvent } from "../../webhooks/webhook-event.js";
import type { Actor } from "./actor.js";
import { openEscalation } from "./open-escalation.js";
import { decidedReviewers } from "./review-queries.js";

const STATEMENT_MAX_CHARS = 5000;

/**
 * Appeals (issue 14, item 6): the integrator that posted a REJECTED item (its tenant, the
 * codebase's owner of an item) or an operator reopens the reviewers' REJECT as an escalation of
 * issue type APPEAL, which the reviewers who decided it may not review. One appeal per decision;
 * the appeal's outcome is final (an APPROVE then publishes through the publisher, whose invariant
 * is unchanged: the item is APPROVED by a human). Anyone else (another tenant's integrator, or
 * another integrator key of the same tenant) is FORBIDDEN, as issue 14 specifies: unlike reads,
 * where another tenant's item is NOT_FOUND, an appeal names an item its caller was told about.
 */
export class AppealService {
  constructor(private readonly deps: { db: Db; logger: Logger }) {}

  async appeal(trendId: string, statementInput: string, actor: Actor): Promise<EscalationRow> {
    assertUuid(trendId, "trendId");
    const statement = statementInput.trim();
    if (!statement) throw badInput("statement", "must say why the decision is wrong");
    if (statement.length > STATEMENT_MAX_CHARS)
      throw badInput("statement", `must be at most ${STATEMENT_MAX_CHARS} characters`);
    const appeal = await this.deps.db.transaction().execute(async (trx) => {
      // The trend's row lock orders concurrent appeals: the second sees the first.
      const trend = await trx
        .selectFrom("enriched_trends")
        .select(["id", "trace_id", "status", "tenant", "ingested_by_key"])
        .where("id", "=", trendId)
        .forUpdate()
        .executeTakeFirst();
      if (!trend) throw notFound("trend", trendId);
      assertMayAppeal(trend, actor);
      const decided = await trx
        .selectFrom("escalations")
        .selectAll()
        .where("trend_id", "=", trendId)
        .where("status", "=", "RESOLVED")
        .where("decision", "=", "REJECT")
        .orderBy("resolved_at", "desc")
        .limit(1)
        .executeTakeFirst();
      if (decided?.issue_type === "appeal") {
        throw conflict(`trend ${trendId}: the appeal was decided (REJECT); its outcome is final`, {
          escalationId: decided.id,
        });
      }
      if (decided) {
        const earlier = await trx
          .selectFrom("escalations")
          .select(["id", "status"])
          .where("appeal_of", "=", decided.id)
          .executeTakeFirst();
        if (earlier)
          throw conflict(`the decision of escalation ${decided.id} was already appealed`, {
            appealId: earlier.id,
            status: earlier.status,
          });
      }
      if (trend.status !== "REJECTED")
        throw badInput(
          "trendId",
          `only a REJECTED item can be appealed; this one is ${trend.status}`,
        );
      if (!decided) {
        throw badInput(
          "trendId",
          "the item was rejected by the Judge's policy (an incident), not by a reviewer; an operator may override it (overridePublish)",
        );
      }
      await transitionTrend(
        trx,
        trendId,
        ["REJECTED"],
        "ESCALATED",
        {},
        { actor: `${actor.role}:${actor.name}`, reason: "appealed" },
      );
      const excluded = await decidedReviewers(trx, decided);
      const id = await openEscalation(trx, trend, {
        issueType: "appeal",
        reason: `appeal of the REJECT (${decided.reason_code ?? "no reason code"}) by ${decided.resolved_by ?? "a reviewer"}`,
        rule: "appeal",
        scores: {},
        event: { appealOf: decided.id },
        appeal: {
          of: decided.id,
          byKey: actor.keyId ?? actor.name,
          statement,
          excludedReviewers: excluded,
        },
      });
      if (!id) throw conflict(`trend ${trendId} already has an open appeal`);
      await appendProvenance(trx, {
        traceId: trend.trace_id,
        trendId,
        step: "appeal",
        actor: `${actor.role}:${actor.name}`,
        input: {
          appealOf: decided.id,
          decision: decided.decision,
          reasonCode: decided.reason_code,
          statement,
        },
        output: { escalationId: id, issueType: "appeal", trendStatus: "ESCALATED" },
      });
      await enqueueWebhookEvent(trx, {
        type: "appeal.opened",
        traceId: trend.trace_id,
        trendId,
        data: {
          escalationId: id,
          trendId,
          appealOf: decided.id,
          decision: decided.decision,
          reasonCode: decided.reason_code,
        },
      });
      return trx
        .selectFrom("escalations")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
    });
    this.deps.logger.info(
      { escalation_id: appeal.id, enriched_trend_id: trendId, appeal_of: appeal.appeal_of },
      "appeal opened",
    );
    return appeal;
  }
}

/** The integrator key that posted the item, or an operator of its tenant. */
function assertMayAppeal(
  trend: { tenant: string; ingested_by_key: string | null },
  actor: Actor,
): void {
  const scope = actor.tenants ?? null;
  if (scope !== null && !scope.includes(trend.tenant)) {
    throw new DomainError(
      "FORBIDDEN",
      "only the integrator that posted the item, or an operator, may appeal it",
      {
        reason: "OTHER_TENANT",
      },
    );
  }
  if (actor.role === "operator") return;
  if (trend.ingested_by_key !== null && trend.ingested_by_key !== actor.keyId) {
    throw new DomainError(
      "FORBIDDEN",
      "only the integrator that posted the item, or an operator, may appeal it",
      {
        reason: "NOT_THE_POSTER",
      },
    );
  }
}
