import type { Redis } from "ioredis";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { StreamKeys } from "../streams/stream-names.js";
import { readGroupHealth } from "../workers/runtime/group-health.js";

/**
 * Prometheus metrics at GET /metrics. Stream and group figures are read from Redis when scraped,
 * so every process reports the same truth; counters and histograms are this process's own.
 */
export class MetricsRegistry {
  readonly registry = new Registry();
  readonly processed = new Counter({ name: "trendgate_stage_processed_total", help: "Jobs a stage finished", labelNames: ["stage"], registers: [this.registry] });
  readonly failed = new Counter({ name: "trendgate_stage_failed_total", help: "Job attempts that failed", labelNames: ["stage"], registers: [this.registry] });
  readonly retried = new Counter({ name: "trendgate_stage_retried_total", help: "Job attempts scheduled for retry", labelNames: ["stage"], registers: [this.registry] });
  readonly deadLettered = new Counter({ name: "trendgate_stage_dead_lettered_total", help: "Jobs moved to a dead-letter stream", labelNames: ["stage"], registers: [this.registry] });
  readonly reclaimed = new Counter({ name: "trendgate_stage_reclaimed_total", help: "Entries reclaimed from dead or stuck consumers", labelNames: ["stage"], registers: [this.registry] });
  readonly latency = new Histogram({
    name: "trendgate_stage_duration_seconds",
    help: "Time a stage's handler took",
    labelNames: ["stage"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly subscribers = new Gauge({ name: "trendgate_ws_connections", help: "Authenticated graphql-ws connections", registers: [this.registry] });

  constructor(redis?: Redis, keys?: StreamKeys, streams: string[] = []) {
    collectDefaultMetrics({ register: this.registry, prefix: "trendgate_" });
    if (redis && keys && streams.length) {
      const lag = new Gauge({ name: "trendgate_stream_group_lag", help: "Entries not yet delivered to the group", labelNames: ["stream", "group"], registers: [this.registry] });
      const pending = new Gauge({ name: "trendgate_stream_group_pending", help: "Entries delivered but not acknowledged", labelNames: ["stream", "group"], registers: [this.registry] });
      const oldest = new Gauge({ name: "trendgate_stream_group_oldest_pending_seconds", help: "Age of the oldest pending entry", labelNames: ["stream", "group"], registers: [this.registry] });
      const consumers = new Gauge({ name: "trendgate_stream_group_consumers", help: "Consumers in the group", labelNames: ["stream", "group"], registers: [this.registry] });
      const length = new Gauge({ name: "trendgate_stream_length", help: "Entries in the stream", labelNames: ["stream"], registers: [this.registry] });
      new Gauge({
        name: "trendgate_streams_scrape_ok",
        help: "1 when stream figures were read from Redis at this scrape",
        registers: [this.registry],
        async collect() {
          try {
            const health = await readGroupHealth(redis, keys, streams);
            for (const s of health) {
              length.set({ stream: s.stream }, s.length);
              for (const g of s.groups) {
                const labels = { stream: s.stream, group: g.name };
                lag.set(labels, g.lag ?? 0);
                pending.set(labels, g.pending);
                oldest.set(labels, (g.oldestPendingAgeMs ?? 0) / 1000);
                consumers.set(labels, g.consumers.length);
              }
            }
            this.set(1);
          } catch {
            this.set(0);
          }
        },
      });
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
