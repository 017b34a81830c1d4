import type { Redis } from "ioredis";

import type { Logger } from "../observability/logger.js";
import { newTraceId } from "../pipeline/ingest/ingest-service.js";
import { makeEnvelope } from "../streams/envelope.js";
import type { StreamProducer } from "../streams/producer.js";
import { type StreamKeys, STREAMS } from "../streams/stream-names.js";
import { PeriodicTask } from "./periodic-task.js";
import { readGroupHealth } from "./runtime/group-health.js";

/**
 * Raises an `operatorAlerts` event when a stage falls behind: a group's lag or its oldest
 * pending entry's age crosses its threshold. One alert per breach, shared by every process that
 * runs the monitor (a Redis key marks the breach), and re-armed once the group is healthy again.
 */
export class LagMonitor {
  private readonly task: PeriodicTask;

  constructor(
    private readonly deps: {
      redis: Redis;
      keys: StreamKeys;
      producer: StreamProducer;
      logger: Logger;
      streams: string[];
      lagThreshold: number;
      pendingAgeThresholdMs: number;
      intervalMs: number;
    },
  ) {
    this.task = new PeriodicTask(
      () => this.check(),
      deps.intervalMs,
      (error) => deps.logger.warn({ err: error }, "lag check failed"),
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One pass; returns the alerts it raised. */
  async check(): Promise<{ stream: string; group: string; kind: string }[]> {
    const raised: { stream: string; group: string; kind: string }[] = [];
    for (const stream of await readGroupHealth(
      this.deps.redis,
      this.deps.keys,
      this.deps.streams,
    )) {
      for (const group of stream.groups) {
        const breaches = [
          {
            kind: "LAG",
            over: (group.lag ?? 0) > this.deps.lagThreshold,
            value: group.lag ?? 0,
            limit: this.deps.lagThreshold,
          },
          {
            kind: "PENDING_AGE",
            over: (group.oldestPendingAgeMs ?? 0) > this.deps.pendingAgeThresholdMs,
            value: Math.round(group.oldestPendingAgeMs ?? 0),
            limit: this.deps.pendingAgeThresholdMs,
          },
        ];
        for (const b of breaches) {
          const marker = this.deps.keys.key(`alerts:${b.kind}:${stream.stream}:${group.name}`);
          if (!b.over) {
            await this.deps.redis.del(marker);
            continue;
          }
          // SET NX: the first process to see the breach alerts; the rest stay quiet until it heals.
          if ((await this.deps.redis.set(marker, "1", "EX", 3600, "NX")) !== "OK") continue;
          const message = `${stream.stream} / ${group.name}: ${b.kind === "LAG" ? `lag ${b.value} entries` : `oldest pending ${b.value} ms`} over ${b.limit}`;
          await this.deps.producer.add(
            STREAMS.operatorAlerts,
            makeEnvelope(`alert.${b.kind.toLowerCase()}`, {
              traceId: newTraceId(),
              payload: {
                kind: `STREAM_${b.kind}`,
                severity: "warning",
                message,
                stream: stream.stream,
                group: group.name,
                value: b.value,
                threshold: b.limit,
              },
            }),
          );
          this.deps.logger.warn(
            { stream: stream.stream, group: group.name, kind: b.kind, value: b.value },
            "stage falling behind",
          );
          raised.push({ stream: stream.stream, group: group.name, kind: b.kind });
        }
      }
    }
    return raised;
  }
}
