import type { Redis } from "ioredis";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

import type { Db } from "../db/database.js";
import {
  budgetOverrunCount,
  openEscalationsByType,
  publicationsByPath,
} from "../db/gauge-queries.js";
import { ISSUE_TYPES } from "../db/types.js";
import { DEAD_LETTER_STREAMS } from "../pipeline/registry.js";
import type { StreamKeys } from "../streams/stream-names.js";
import { readGroupHealth } from "../workers/runtime/group-health.js";

type GroupHealthRow = Awaited<ReturnType<typeof readGroupHealth>>[number]["groups"][number];

/**
 * Prometheus metrics at GET /metrics. Stream and group figures are read from Redis when scraped,
 * so every process reports the same truth; counters and histograms are this process's own.
 */
export class MetricsRegistry {
  readonly registry = new Registry();
  readonly processed = new Counter({
    name: "trendgate_stage_processed_total",
    help: "Jobs a stage finished",
    labelNames: ["stage"],
    registers: [this.registry],
  });
  readonly failed = new Counter({
    name: "trendgate_stage_failed_total",
    help: "Job attempts that failed",
    labelNames: ["stage"],
    registers: [this.registry],
  });
  readonly retried = new Counter({
    name: "trendgate_stage_retried_total",
    help: "Job attempts scheduled for retry",
    labelNames: ["stage"],
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: "trendgate_stage_dead_lettered_total",
    help: "Jobs moved to a dead-letter stream",
    labelNames: ["stage"],
    registers: [this.registry],
  });
  readonly reclaimed = new Counter({
    name: "trendgate_stage_reclaimed_total",
    help: "Entries reclaimed from dead or stuck consumers",
    labelNames: ["stage"],
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "trendgate_stage_duration_seconds",
    help: "Time a stage's handler took",
    labelNames: ["stage"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly consumersRemoved = new Counter({
    name: "trendgate_stage_consumers_removed_total",
    help: "Dead consumers removed from a group after their entries were claimed",
    labelNames: ["stage"],
    registers: [this.registry],
  });
  readonly reconciled = new Counter({
    name: "trendgate_reconciler_repaired_total",
    help: "Stranded items (no job anywhere) the reconciler re-enqueued, by the stage they waited for",
    labelNames: ["stage"],
    registers: [this.registry],
  });
  readonly subscribers = new Gauge({
    name: "trendgate_ws_connections",
    help: "Authenticated graphql-ws connections",
    registers: [this.registry],
  });

  constructor(redis?: Redis, keys?: StreamKeys, streams: string[] = [], db?: Db) {
    collectDefaultMetrics({ register: this.registry, prefix: "trendgate_" });
    if (db) this.registerDatabaseGauges(db);
    if (redis && keys) this.registerDeadLetterGauge(redis, keys);
    if (redis && keys && streams.length) this.registerStreamGauges(redis, keys, streams);
  }

  /**
   * Per stream and group figures from one XINFO round per scrape: every gauge's collect awaits
   * the same read, so they always describe the same moment.
   */
  private registerStreamGauges(redis: Redis, keys: StreamKeys, streams: string[]): void {
    let reading:
      | { at: number; health: Promise<Awaited<ReturnType<typeof readGroupHealth>> | undefined> }
      | undefined;
    const health = () => {
      if (!reading || Date.now() - reading.at > 500) {
        reading = {
          at: Date.now(),
          health: readGroupHealth(redis, keys, streams).catch(() => undefined),
        };
      }
      return reading.health;
    };
    const registers = [this.registry];
    const perGroup = (name: string, help: string, value: (g: GroupHealthRow) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["stream", "group"],
        registers,
        async collect() {
          this.reset();
          for (const s of (await health()) ?? [])
            for (const g of s.groups) this.set({ stream: s.stream, group: g.name }, value(g));
        },
      });
    perGroup(
      "trendgate_stream_group_lag",
      "Entries not yet delivered to the group",
      (g) => g.lag ?? 0,
    );
    perGroup(
      "trendgate_stream_group_pending",
      "Entries delivered but not acknowledged",
      (g) => g.pending,
    );
    perGroup(
      "trendgate_stream_group_oldest_pending_seconds",
      "Age of the oldest pending entry",
      (g) => (g.oldestPendingAgeMs ?? 0) / 1000,
    );
    perGroup(
      "trendgate_stream_group_consumers",
      "Consumers in the group",
      (g) => g.consumers.length,
    );
    new Gauge({
      name: "trendgate_stream_consumer_idle_seconds",
      help: "Idle time of each consumer of each group",
      labelNames: ["stream", "group", "consumer"],
      registers,
      async collect() {
        this.reset();
        for (const s of (await health()) ?? [])
          for (const g of s.groups)
            for (const c of g.consumers)
              this.set({ stream: s.stream, group: g.name, consumer: c.name }, c.idleMs / 1000);
      },
    });
    new Gauge({
      name: "trendgate_stream_length",
      help: "Entries in the stream",
      labelNames: ["stream"],
      registers,
      async collect() {
        for (const s of (await health()) ?? []) this.set({ stream: s.stream }, s.length);
      },
    });
    new Gauge({
      name: "trendgate_streams_scrape_ok",
      help: "1 when stream figures were read from Redis at this scrape",
      registers,
      async collect() {
        this.set((await health()) ? 1 : 0);
      },
    });
  }

  /** Figures that live in Postgres, read at scrape time so every process reports the same. */
  private registerDatabaseGauges(db: Db): void {
    const registers = [this.registry];
    new Gauge({
      name: "trendgate_escalations_open",
      help: "Escalations waiting for a human, by issue type",
      labelNames: ["issue_type"],
      registers,
      async collect() {
        const rows = await openEscalationsByType(db);
        this.reset();
        for (const type of ISSUE_TYPES)
          this.set({ issue_type: type }, rows.find((r) => r.issue_type === type)?.n ?? 0);
      },
    });
    new Gauge({
      name: "trendgate_budget_overruns",
      help: "Budget overruns raised so far (budget_overrun escalations)",
      registers,
      async collect() {
        this.set(await budgetOverrunCount(db));
      },
    });
    new Gauge({
      name: "trendgate_publications",
      help: "Publications recorded, by approval path",
      labelNames: ["approval_path"],
      registers,
      async collect() {
        const rows = await publicationsByPath(db);
        for (const path of ["judge", "moderator", "override"])
          this.set({ approval_path: path }, rows.find((r) => r.approval_path === path)?.n ?? 0);
      },
    });
  }

  private registerDeadLetterGauge(redis: Redis, keys: StreamKeys): void {
    new Gauge({
      name: "trendgate_dead_letters",
      help: "Entries waiting in each dead-letter stream",
      labelNames: ["stream"],
      registers: [this.registry],
      async collect() {
        for (const stream of DEAD_LETTER_STREAMS) {
          this.set({ stream }, await redis.xlen(keys.key(stream)));
        }
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
