import type { Redis } from "ioredis";
import { sql } from "kysely";

import type { Db } from "../../db/database.js";
import { DomainError } from "../../domain/domain-error.js";
import { PIPELINE_STAGES, type PipelineStage, STAGE_JOBS } from "../../pipeline/stage-jobs.js";
import type { StreamKeys } from "../../streams/stream-names.js";

const MEASURE_EVERY_MS = 250;

/**
 * Refuses new items (BACKPRESSURE) while any stage is over its high-water mark: ETL against
 * INGEST_HIGH_WATER_MARK, embedding, judge and publisher against STAGE_HIGH_WATER_MARK. A
 * stage's backlog is its group's undelivered plus pending entries plus the outbox rows not yet
 * relayed to its stream. Before issue 12 only ETL counted, so a stalled judge let work pile up
 * without bound. Measured at most every 250 ms and counted locally in between (new items join
 * the ETL backlog), so a burst cannot slip past by much.
 */
export class Backpressure {
  private measuredAt = 0;
  private measuring: Promise<void> | undefined;
  private backlog: Record<PipelineStage, number> = { etl: 0, embedding: 0, judge: 0, publisher: 0 };

  constructor(
    private readonly deps: {
      db: Db;
      redis: Redis;
      keys: StreamKeys;
      ingestHighWaterMark: number;
      stageHighWaterMark: number;
    },
  ) {}

  /** Throws BACKPRESSURE naming the first stage over its mark, counting `incoming` for ETL. */
  async check(incoming: number): Promise<void> {
    if (Date.now() - this.measuredAt > MEASURE_EVERY_MS) {
      // One measurement at a time, shared by the requests that arrive while it runs: each used
      // to start its own, so under load nearly every ingest request counted the outbox (a quarter
      // of the pool's connection time in a 100 items/s load test).
      this.measuring ??= this.measure()
        .then((backlog) => {
          this.backlog = backlog;
          this.measuredAt = Date.now();
        })
        .finally(() => {
          this.measuring = undefined;
        });
      await this.measuring;
    }
    for (const stage of PIPELINE_STAGES) {
      const limit = stage === "etl" ? this.deps.ingestHighWaterMark : this.deps.stageHighWaterMark;
      const waiting = this.backlog[stage];
      if (waiting + (stage === "etl" ? incoming : 0) <= limit) continue;
      const what = stage === "etl" ? "ingest is" : `the ${stage} stage is`;
      throw new DomainError(
        "BACKPRESSURE",
        `${what} over its high-water mark (${waiting} items waiting, limit ${limit}); retry later`,
        {
          retryable: true,
          retryAfterMs: 1000,
          backlog: waiting,
          stage,
        },
      );
    }
  }

  /** Items just accepted: they wait for ETL until the next measurement. */
  admitted(count: number): void {
    this.backlog.etl += count;
  }

  private async measure(): Promise<Record<PipelineStage, number>> {
    const info = this.deps.redis.pipeline();
    for (const stage of PIPELINE_STAGES)
      info.xinfo("GROUPS", this.deps.keys.key(STAGE_JOBS[stage].stream));
    const [replies, unsent] = await Promise.all([
      info.exec(),
      this.deps.db
        .selectFrom("outbox")
        .select(["stream", sql<number>`count(*)::int`.as("n")])
        .groupBy("stream")
        .execute(),
    ]);
    const out = { etl: 0, embedding: 0, judge: 0, publisher: 0 };
    const xlen = this.deps.redis.pipeline();
    const withoutGroup: PipelineStage[] = [];
    PIPELINE_STAGES.forEach((stage, i) => {
      const [error, groups] = replies?.[i] ?? [];
      const found = error
        ? undefined
        : groupBacklog(groups as unknown[][], STAGE_JOBS[stage].group);
      if (found === undefined) {
        // No group yet (its stage never started): everything on the stream waits.
        withoutGroup.push(stage);
        xlen.xlen(this.deps.keys.key(STAGE_JOBS[stage].stream));
      } else out[stage] = found;
    });
    if (withoutGroup.length) {
      const lengths = (await xlen.exec()) ?? [];
      withoutGroup.forEach((stage, i) => (out[stage] = Number(lengths[i]?.[1] ?? 0)));
    }
    for (const row of unsent) {
      const stage = PIPELINE_STAGES.find((s) => STAGE_JOBS[s].stream === row.stream);
      if (stage) out[stage] += row.n;
    }
    return out;
  }
}

function groupBacklog(groups: unknown[][], group: string): number | undefined {
  for (const raw of groups) {
    const info: Record<string, unknown> = {};
    for (let i = 0; i + 1 < raw.length; i += 2) info[String(raw[i])] = raw[i + 1];
    if (info.name === group) return Number(info.lag ?? 0) + Number(info.pending ?? 0);
  }
  return undefined;
}
