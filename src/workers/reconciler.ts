import type { Redis } from "ioredis";
import { sql } from "kysely";

import type { Db } from "../db/database.js";
import { enqueueOutbox } from "../db/outbox.js";
import { appendProvenance } from "../db/provenance.js";
import {
  findStaleInFlight,
  type StrandedCandidate,
  unsentOutboxTrends,
} from "../db/stranded-items.js";
import type { Logger } from "../observability/logger.js";
import { newTraceId } from "../pipeline/ingest/ingest-service.js";
import {
  type PipelineStage,
  STAGE_JOBS,
  stageJobEnvelope,
  stageWaitedFor,
} from "../pipeline/stage-jobs.js";
import { makeEnvelope } from "../streams/envelope.js";
import { readLiveJobs } from "../streams/live-jobs.js";
import type { StreamProducer } from "../streams/producer.js";
import { type StreamKeys, STREAMS } from "../streams/stream-names.js";
import { PeriodicTask } from "./periodic-task.js";

const BATCH = 500;
// Beyond this many unacknowledged entries the stream is not read whole; its items wait a pass.
const SCAN_LIMIT = 200_000;

export interface ReconcileReport {
  /** Items re-enqueued, by the stage they were waiting for. */
  repaired: Partial<Record<PipelineStage, number>>;
  total: number;
  /** Stages whose streams held too many entries to check this pass. */
  skipped: PipelineStage[];
}

/**
 * Finds items that sit in a status a worker should move them out of (RECEIVED … APPROVED) for
 * longer than `staleAfterMs` with no job for them anywhere: not in the outbox, not undelivered
 * on their stage's stream, not pending in its group. Such an item lost its event (Redis lost
 * acknowledged writes in the AOF fsync window, a stream was deleted, an operator purged a dead
 * letter); the reconciler writes the job again through the outbox, so the loss delays the item
 * instead of stranding it. Idempotent with the stages' status guards: a job written twice is
 * done once. Reports each repair (log, metric, operatorAlerts). Safe in several processes: a
 * repaired row's updated_at moves, and rows are taken with SKIP LOCKED.
 */
export class Reconciler {
  private readonly task: PeriodicTask;
  /** Items repaired since start, by stage (for the campaigns' report). */
  readonly totals: Partial<Record<PipelineStage, number>> = {};

  constructor(
    private readonly deps: {
      db: Db;
      redis: Redis;
      keys: StreamKeys;
      producer: StreamProducer;
      logger: Logger;
      staleAfterMs: number;
      intervalMs: number;
      onRepaired?: (stage: PipelineStage, count: number) => void;
    },
  ) {
    this.task = new PeriodicTask(
      () => this.reconcile(),
      deps.intervalMs,
      (error) => deps.logger.warn({ err: error }, "reconcile pass failed"),
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One pass. */
  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { repaired: {}, total: 0, skipped: [] };
    const candidates = await findStaleInFlight(this.deps.db, this.deps.staleAfterMs, BATCH);
    if (candidates.length === 0) return report;
    const byStage = new Map<PipelineStage, StrandedCandidate[]>();
    for (const c of candidates) {
      const stage = stageWaitedFor(c.status);
      byStage.set(stage, [...(byStage.get(stage) ?? []), c]);
    }
    for (const [stage, items] of byStage) {
      const { stream, group } = STAGE_JOBS[stage];
      // The outbox first, then the stream: a row the relay moves in between is seen in the stream.
      const unsent = await unsentOutboxTrends(this.deps.db, stream);
      const live = await readLiveJobs(this.deps.redis, this.deps.keys, stream, group, SCAN_LIMIT);
      if (!live) {
        report.skipped.push(stage);
        continue;
      }
      let repaired = 0;
      for (const item of items) {
        if (unsent.has(item.id) || live.has(item.id)) continue;
        if (await this.reenqueue(item, stage)) repaired += 1;
      }
      if (repaired > 0) {
        report.repaired[stage] = repaired;
        report.total += repaired;
        this.totals[stage] = (this.totals[stage] ?? 0) + repaired;
        this.deps.onRepaired?.(stage, repaired);
      }
    }
    if (report.total > 0) await this.announce(report);
    if (report.skipped.length)
      this.deps.logger.warn(
        { stages: report.skipped, scanLimit: SCAN_LIMIT },
        "reconciler could not read every unacknowledged job; those stages wait a pass",
      );
    return report;
  }

  private async reenqueue(item: StrandedCandidate, stage: PipelineStage): Promise<boolean> {
    const { stream } = STAGE_JOBS[stage];
    return this.deps.db.transaction().execute(async (trx) => {
      // Still in the same status and still stale: a worker that moved it meanwhile wins.
      const row = await trx
        .selectFrom("enriched_trends")
        .select(["id", "trace_id", "status"])
        .where("id", "=", item.id)
        .where("status", "=", item.status)
        .where(
          "updated_at",
          "<",
          sql<Date>`now() - ${`${this.deps.staleAfterMs} milliseconds`}::interval`,
        )
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
      if (!row) return false;
      await trx
        .updateTable("enriched_trends")
        .set({ updated_at: sql<Date>`now()` })
        .where("id", "=", item.id)
        .execute();
      const envelope = stageJobEnvelope(row, { reconciled: true });
      await enqueueOutbox(trx, stream, envelope);
      await appendProvenance(trx, {
        traceId: row.trace_id,
        trendId: row.id,
        step: "reconcile",
        actor: "worker:maintenance",
        input: { status: row.status, staleAfterMs: this.deps.staleAfterMs },
        output: {
          stream,
          reason: "no job for the item in the outbox, the stream or its group's pending list",
        },
      });
      return true;
    });
  }

  private async announce(report: ReconcileReport): Promise<void> {
    const detail = Object.entries(report.repaired)
      .map(([stage, n]) => `${stage} ${n}`)
      .join(", ");
    const message = `re-enqueued ${report.total} stranded item(s) (${detail}): no job for them after ${this.deps.staleAfterMs} ms`;
    this.deps.logger.warn(
      { repaired: report.repaired, total: report.total },
      "reconciler repaired stranded items",
    );
    await this.deps.producer.add(
      STREAMS.operatorAlerts,
      makeEnvelope("alert.reconciled", {
        traceId: newTraceId(),
        payload: {
          kind: "STRANDED_ITEMS_REPAIRED",
          severity: "warning",
          message,
          repaired: report.repaired,
          total: report.total,
        },
      }),
    );
  }
}
