import type { Redis } from "ioredis";

import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import type { Logger } from "../observability/logger.js";
import type { MetricsRegistry } from "../observability/metrics.js";
import { DeadlineSweeper } from "../pipeline/review/deadline-sweeper.js";
import { EscalationSweeper } from "../pipeline/review/escalation-sweeper.js";
import { StreamProducer } from "../streams/producer.js";
import { type StreamKeys, STREAMS } from "../streams/stream-names.js";
import { LagMonitor } from "./lag-monitor.js";
import { Reconciler } from "./reconciler.js";
import { StreamTrimmer } from "./stream-trimmer.js";

export const WORK_STREAMS = [
  STREAMS.ingest,
  STREAMS.embeddingJobs,
  STREAMS.judgeJobs,
  STREAMS.publishJobs,
];

/** The `maintenance` worker's timers, each its own module; stop() ends them all. */
export interface MaintenanceWorker {
  reconciler: Reconciler;
  deadlines: DeadlineSweeper;
  stop(): Promise<void>;
}

/**
 * Starts the maintenance worker: claim expiry and SLA alerts (EscalationSweeper), the deadline
 * ladders (DeadlineSweeper, ESCALATION_DEADLINES), lag alerts
 * (LagMonitor), the reconciler of stranded items and the trimming of work streams below what
 * their groups acknowledged (StreamTrimmer), on SWEEP_INTERVAL_MS.
 */
export function startMaintenanceWorker(deps: {
  db: Db;
  redis: Redis;
  keys: StreamKeys;
  config: Config;
  logger: Logger;
  metrics: MetricsRegistry;
}): MaintenanceWorker {
  const { db, redis, keys, config, logger, metrics } = deps;
  const producer = new StreamProducer(redis, keys, config.STREAM_MAX_LEN);
  const sweeper = new EscalationSweeper({
    db,
    logger,
    slaMs: config.ESCALATION_SLA_MS,
    intervalMs: config.SWEEP_INTERVAL_MS,
  });
  const lagMonitor = new LagMonitor({
    redis,
    keys,
    producer,
    logger,
    streams: WORK_STREAMS,
    lagThreshold: config.LAG_ALERT_THRESHOLD,
    pendingAgeThresholdMs: config.PENDING_AGE_ALERT_MS,
    intervalMs: config.SWEEP_INTERVAL_MS,
  });
  const reconciler = new Reconciler({
    db,
    redis,
    keys,
    producer,
    logger: logger.child({ component: "reconciler" }),
    staleAfterMs: config.RECONCILE_AFTER_MS,
    intervalMs: config.SWEEP_INTERVAL_MS,
    onRepaired: (stage, n) => metrics.reconciled.inc({ stage }, n),
  });
  const deadlines = new DeadlineSweeper({
    db,
    logger: logger.child({ component: "deadlines" }),
    ladders: config.ESCALATION_DEADLINES,
    intervalMs: config.SWEEP_INTERVAL_MS,
  });
  const trimmer = new StreamTrimmer({
    redis,
    keys,
    maxLen: config.STREAM_MAX_LEN,
    intervalMs: config.SWEEP_INTERVAL_MS,
    logger,
  });
  const parts = [sweeper, deadlines, lagMonitor, reconciler, trimmer];
  for (const part of parts) part.start();
  return {
    reconciler,
    deadlines,
    async stop() {
      await Promise.allSettled(parts.map((p) => p.stop()));
    },
  };
}
