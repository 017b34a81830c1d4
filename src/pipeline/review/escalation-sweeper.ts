import { sql } from "kysely";

import type { Db } from "../../db/database.js";
import { enqueueOutbox } from "../../db/outbox.js";
import type { Logger } from "../../observability/logger.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import { PeriodicTask } from "../../workers/periodic-task.js";
import { NO_CLAIM, unclaimedStatus } from "./review-queries.js";

/**
 * Keeps the moderation queue honest on a timer: claims whose lease lapsed go back to the queue
 * (and every queue hears of it), and escalations waiting past their issue type's SLA raise one
 * operator alert each. Safe to run in several processes: each row is taken with SKIP LOCKED.
 */
export class EscalationSweeper {
  private readonly task: PeriodicTask;

  constructor(
    private readonly deps: {
      db: Db;
      logger: Logger;
      slaMs: Record<string, number>;
      intervalMs: number;
    },
  ) {
    this.task = new PeriodicTask(
      () => this.sweep(),
      deps.intervalMs,
      (error) => deps.logger.error({ err: error }, "escalation sweep failed"),
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One pass; returns what it changed (for tests and logs). */
  async sweep(): Promise<{ released: number; slaAlerts: number }> {
    return this.deps.db.transaction().execute(async (trx) => {
      const expired = await trx
        .selectFrom("escalations")
        .innerJoin("enriched_trends as t", "t.id", "escalations.trend_id")
        .select(["escalations.id", "escalations.trend_id", "escalations.claimed_by", "t.trace_id"])
        .where("escalations.status", "=", "CLAIMED")
        .where("escalations.claim_expires_at", "<", sql<Date>`now()`)
        .forUpdate("escalations")
        .skipLocked()
        .limit(500)
        .execute();
      for (const row of expired) {
        await trx
          .updateTable("escalations")
          .set({
            status: unclaimedStatus(),
            ...NO_CLAIM,
          })
          .where("id", "=", row.id)
          .execute();
        await enqueueOutbox(
          trx,
          STREAMS.escalations,
          makeEnvelope("escalation.released", {
            traceId: row.trace_id,
            trendId: row.trend_id,
            payload: {
              escalationId: row.id,
              claimedBy: null,
              by: "lease-expiry",
              previousHolder: row.claimed_by,
            },
          }),
        );
      }
      let slaAlerts = 0;
      for (const [issueType, ms] of Object.entries(this.deps.slaMs)) {
        const late = await trx
          .selectFrom("escalations")
          .innerJoin("enriched_trends as t", "t.id", "escalations.trend_id")
          .select([
            "escalations.id",
            "escalations.trend_id",
            "escalations.status",
            "escalations.created_at",
            "t.trace_id",
          ])
          .where("escalations.issue_type", "=", issueType as never)
          .where("escalations.status", "<>", "RESOLVED")
          .where("escalations.sla_alerted_at", "is", null)
          .where(
            "escalations.created_at",
            "<",
            sql<Date>`now() - ${`${ms} milliseconds`}::interval`,
          )
          .forUpdate("escalations")
          .skipLocked()
          .limit(500)
          .execute();
        for (const row of late) {
          await trx
            .updateTable("escalations")
            .set({ sla_alerted_at: new Date() })
            .where("id", "=", row.id)
            .execute();
          await enqueueOutbox(
            trx,
            STREAMS.operatorAlerts,
            makeEnvelope("alert.escalation_sla", {
              traceId: row.trace_id,
              trendId: row.trend_id,
              payload: {
                kind: "ESCALATION_SLA",
                severity: "warning",
                message: `escalation ${row.id} (${issueType}) ${row.status === "CLAIMED" ? "unresolved" : "unclaimed"} for more than ${Math.round(ms / 1000)} s`,
                escalationId: row.id,
                issueType,
                status: row.status,
              },
            }),
          );
          slaAlerts++;
        }
      }
      if (expired.length || slaAlerts) {
        this.deps.logger.info({ released: expired.length, slaAlerts }, "escalation sweep");
      }
      return { released: expired.length, slaAlerts };
    });
  }
}
