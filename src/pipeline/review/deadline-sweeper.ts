import type { Transaction } from "kysely";

import type { Db } from "../../db/database.js";
import { enqueueOutbox } from "../../db/outbox.js";
import { appendProvenance } from "../../db/provenance.js";
import type { Database, EscalationRow, IssueType } from "../../db/types.js";
import type { Logger } from "../../observability/logger.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import { enqueueWebhookEvent } from "../../webhooks/webhook-event.js";
import { PeriodicTask } from "../../workers/periodic-task.js";
import type { Actor } from "./actor.js";
import { type DeadlineLadders, type DeadlineRung, dueRungs } from "./deadline-ladder.js";
import { applyFinalDecision } from "./final-decision.js";
import { DEADLINE_REASON_CODE } from "./reason-codes.js";
import { NO_CLAIM } from "./review-queries.js";

/** Who a deadline's default action is recorded as. */
export const DEADLINE_ACTOR: Actor & { keyId: string } = {
  name: "system:deadline",
  role: "system",
  keyId: "system:deadline",
};

export interface FiredRung {
  escalationId: string;
  rung: number;
  rule: string;
  action: string;
}

/**
 * Climbs the deadline ladders (ESCALATION_DEADLINES) on the maintenance worker's timer. Each rung
 * fires once, in order: its row in `escalation_deadline_rungs` is written in the transaction of
 * its action (the primary key refuses a second), under the escalation's row lock (SKIP LOCKED,
 * so several maintenance processes share the work). A restart between rungs resumes at the next
 * one; when several are due at once (a long outage) they fire in order in one pass. Nothing is
 * resolved silently: every rung leaves a `deadline` provenance entry and an `escalation.deadline`
 * webhook, and a default REJECT/APPROVE is a resolution by `system:deadline` with the rule.
 */
export class DeadlineSweeper {
  private readonly task: PeriodicTask;
  private readonly now: () => Date;

  constructor(
    private readonly deps: {
      db: Db;
      logger: Logger;
      ladders: DeadlineLadders;
      intervalMs: number;
      now?: () => Date;
    },
  ) {
    this.now = deps.now ?? (() => new Date());
    this.task = new PeriodicTask(
      () => this.sweep(),
      deps.intervalMs,
      (error) => deps.logger.error({ err: error }, "deadline sweep failed"),
    );
  }

  start(): void {
    if (Object.keys(this.deps.ladders).length > 0) this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One pass over every ladder; returns the rungs it fired, in order. */
  async sweep(): Promise<FiredRung[]> {
    const fired: FiredRung[] = [];
    const now = this.now();
    for (const [issueType, ladder] of Object.entries(this.deps.ladders) as [
      IssueType,
      readonly DeadlineRung[],
    ][]) {
      const first = ladder[0];
      if (!first) continue;
      const candidates = await this.deps.db
        .selectFrom("escalations")
        .select("id")
        .where("issue_type", "=", issueType)
        .where("status", "<>", "RESOLVED")
        .where("created_at", "<=", new Date(now.getTime() - first.afterMs))
        .where((eb) =>
          eb(
            eb
              .selectFrom("escalation_deadline_rungs as r")
              .select((f) => f.fn.countAll<number>().as("n"))
              .whereRef("r.escalation_id", "=", "escalations.id"),
            "<",
            ladder.length,
          ),
        )
        .orderBy("created_at")
        .limit(500)
        .execute();
      for (const { id } of candidates) fired.push(...(await this.climb(id, ladder, now)));
    }
    if (fired.length)
      this.deps.logger.info(
        { fired: fired.map((f) => `${f.escalationId}#${f.rung} ${f.rule}`) },
        "deadline rungs fired",
      );
    return fired;
  }

  private climb(id: string, ladder: readonly DeadlineRung[], now: Date): Promise<FiredRung[]> {
    return this.deps.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom("escalations")
        .selectAll()
        .where("id", "=", id)
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
      if (!row || row.status === "RESOLVED") return [];
      const done = await trx
        .selectFrom("escalation_deadline_rungs")
        .select("rung")
        .where("escalation_id", "=", id)
        .execute();
      const ageMs = now.getTime() - new Date(row.created_at).getTime();
      const out: FiredRung[] = [];
      for (const { index, rung } of dueRungs(ladder, ageMs, new Set(done.map((d) => d.rung)))) {
        await trx
          .insertInto("escalation_deadline_rungs")
          .values({ escalation_id: id, rung: index, rule: rung.rule, fired_at: now })
          .execute();
        const resolved = await this.fire(trx, row, index, rung);
        out.push({
          escalationId: id,
          rung: index,
          rule: rung.rule,
          action: rung.kind === "default" ? `default:${rung.action}` : rung.kind,
        });
        if (resolved) break;
      }
      return out;
    });
  }

  /** One rung's action; true when it resolved the escalation (no rung follows). */
  private async fire(
    trx: Transaction<Database>,
    row: EscalationRow,
    index: number,
    rung: DeadlineRung,
  ): Promise<boolean> {
    const trend = await trx
      .selectFrom("enriched_trends")
      .select(["id", "trace_id"])
      .where("id", "=", row.trend_id)
      .executeTakeFirstOrThrow();
    const action =
      rung.kind === "default"
        ? `default:${rung.action}`
        : rung.kind === "reassign"
          ? `reassign:${rung.skill}`
          : "alert";
    const meta = {
      escalationId: row.id,
      trendId: trend.id,
      issueType: row.issue_type,
      rung: index,
      rule: rung.rule,
      action,
    };
    await enqueueWebhookEvent(trx, {
      type: "escalation.deadline",
      traceId: trend.trace_id,
      trendId: trend.id,
      data: meta,
    });
    if (rung.kind === "default" && rung.action !== "KEEP_WAITING") {
      await applyFinalDecision(
        trx,
        row.id,
        {
          decision: rung.action,
          reasonCode: DEADLINE_REASON_CODE,
          note: `no decision within ${Math.round(rung.afterMs / 60_000)} min: default ${rung.action} (${rung.rule})`,
          by: "deadline",
          required: 0,
          reviews: [],
          provenance: { deadlineRule: rung.rule, rung: index },
        },
        DEADLINE_ACTOR,
      );
      return true;
    }
    if (rung.kind === "reassign") {
      // Re-route: from now on only reviewers with the skill are eligible; a claim held by
      // someone goes back to the queue so the eligible reviewers can take it.
      const released = row.status === "CLAIMED";
      await trx
        .updateTable("escalations")
        .set({
          required_skill: rung.skill,
          ...(released && {
            status: "OPEN" as const,
            ...NO_CLAIM,
          }),
        })
        .where("id", "=", row.id)
        .execute();
      if (released) {
        await enqueueOutbox(
          trx,
          STREAMS.escalations,
          makeEnvelope("escalation.released", {
            traceId: trend.trace_id,
            trendId: trend.id,
            payload: {
              escalationId: row.id,
              claimedBy: null,
              by: "deadline",
              previousHolder: row.claimed_by,
            },
          }),
        );
      }
    }
    if (rung.kind === "alert" || rung.kind === "reassign") {
      await enqueueOutbox(
        trx,
        STREAMS.operatorAlerts,
        makeEnvelope("alert.escalation_deadline", {
          traceId: trend.trace_id,
          trendId: trend.id,
          payload: {
            kind: "ESCALATION_DEADLINE",
            severity: "warning",
            message: `escalation ${row.id} (${row.issue_type}) undecided: deadline rung ${rung.rule}`,
            escalationId: row.id,
            issueType: row.issue_type,
            status: row.status,
            rule: rung.rule,
          },
        }),
      );
    }
    await appendProvenance(trx, {
      traceId: trend.trace_id,
      trendId: trend.id,
      step: "deadline",
      actor: DEADLINE_ACTOR.name,
      input: {
        escalationId: row.id,
        issueType: row.issue_type,
        deadlineRule: rung.rule,
        rung: index,
      },
      output: { action, ...(rung.kind === "reassign" && { requiredSkill: rung.skill }) },
    });
    return false;
  }
}
