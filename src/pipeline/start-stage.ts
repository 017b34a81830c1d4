import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

import { SpanKind } from "@opentelemetry/api";
import type { Redis } from "ioredis";

import type { Config } from "../config.js";
import { consumerMetricsOf } from "../observability/consumer-metrics-of.js";
import type { Logger } from "../observability/logger.js";
import type { MetricsRegistry } from "../observability/metrics.js";
import { withItemSpan } from "../observability/tracing.js";
import type { StreamKeys } from "../streams/stream-names.js";
import { type JobHandler, StreamConsumer } from "../workers/runtime/stream-consumer.js";
import type { StageDefinition } from "./registry.js";
import type { StageDeps } from "./stage.js";
import { stageFailureHook } from "./stage-failure.js";
import type { PipelineStage } from "./stage-jobs.js";

/**
 * Builds the stream consumer of one registered stage: its stream, group and dead letters from
 * the registry, its handlers from the stage's code, one span per job named after the step, and
 * the metrics labelled with the group. The caller starts and stops it.
 */
export async function createStageConsumer(
  stage: StageDefinition,
  deps: StageDeps,
  infra: {
    redis: Redis;
    keys: StreamKeys;
    config: Config;
    metrics: MetricsRegistry;
    logger: Logger;
  },
): Promise<StreamConsumer> {
  const { config, metrics } = infra;
  const runtime = await (await stage.load()).start(deps);
  const failed = stageFailureHook({
    db: deps.db,
    logger: infra.logger,
    stage: stage.name as PipelineStage,
  });
  // One span per job, child of the span that wrote the entry (its traceparent), so one trace
  // follows the item across processes. A batch handler starts its items' spans itself.
  const handler: JobHandler = (job, signal) =>
    withItemSpan(
      stage.step,
      job.envelope,
      {
        "trendgate.stage": stage.name,
        "trendgate.trend_id": job.envelope.trendId,
        "messaging.message.id": job.entryId,
        "trendgate.attempt": job.attempt,
      },
      () => runtime.handler(job, signal),
      SpanKind.CONSUMER,
    );
  return new StreamConsumer({
    redis: infra.redis,
    keys: infra.keys,
    stream: stage.stream,
    group: stage.group,
    deadLetterStream: stage.deadLetterStream,
    consumer: `${hostname()}-${process.pid}-${stage.name}-${randomBytes(2).toString("hex")}`,
    handler,
    batchHandler: runtime.batchHandler,
    onDeadLetter: async (job, error, raw) => {
      // A dead-lettered job leaves its item FAILED, visibly, instead of silently stuck (issue 12).
      await failed(job, error);
      await runtime.onDeadLetter?.(job, error, raw);
    },
    batchSize: config.WORKER_BATCH_SIZE,
    blockMs: config.WORKER_BLOCK_MS,
    concurrency: runtime.concurrency ?? config.WORKER_CONCURRENCY,
    maxAttempts: config.RETRY_MAX_ATTEMPTS,
    backoff: { baseMs: config.RETRY_BASE_MS, maxMs: config.RETRY_MAX_MS },
    claimIdleMs: config.CLAIM_IDLE_MS,
    deadConsumerMs: config.CONSUMER_DEAD_MS,
    logger: infra.logger.child({ stage: stage.name }),
    metrics: consumerMetricsOf(metrics),
  });
}
