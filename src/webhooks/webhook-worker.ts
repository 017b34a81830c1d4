import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

import type { Redis } from "ioredis";

import type { Config } from "../config.js";
import { consumerMetricsOf } from "../observability/consumer-metrics-of.js";
import type { Logger } from "../observability/logger.js";
import type { MetricsRegistry } from "../observability/metrics.js";
import { SERVICE_CONSUMERS } from "../pipeline/registry.js";
import type { StreamKeys } from "../streams/stream-names.js";
import { StreamConsumer } from "../workers/runtime/stream-consumer.js";
import { createWebhookDeliveryHandler, type WebhookDeliveryDeps } from "./webhook-delivery.js";
import { WebhookSigner } from "./webhook-message.js";

const definition = SERVICE_CONSUMERS.find((c) => c.name === "webhooks")!;

/**
 * The `webhooks` worker: consumes `webhook:events` (group webhooks) with the stream runtime's
 * retries, exponential backoff with jitter (RETRY_BASE_MS … RETRY_MAX_MS) and, after
 * WEBHOOK_MAX_ATTEMPTS, the `webhook:dlq` dead letters that `trendgate dlq replay` re-runs.
 * Undefined when WEBHOOK_URLS is empty (webhooks off).
 */
export function createWebhookConsumer(
  deps: {
    redis: Redis;
    keys: StreamKeys;
    config: Config;
    logger: Logger;
    metrics?: MetricsRegistry;
  },
  overrides: Pick<Partial<WebhookDeliveryDeps>, "now" | "fetch"> = {},
): StreamConsumer | undefined {
  const { config } = deps;
  if (config.WEBHOOK_URLS.length === 0) {
    deps.logger.info("WEBHOOK_URLS is empty: webhooks are off");
    return undefined;
  }
  const logger = deps.logger.child({ component: "webhooks" });
  const metrics = deps.metrics;
  return new StreamConsumer({
    redis: deps.redis,
    keys: deps.keys,
    stream: definition.stream,
    group: definition.group,
    deadLetterStream: definition.deadLetterStream,
    consumer: `${hostname()}-${process.pid}-webhooks-${randomBytes(2).toString("hex")}`,
    handler: createWebhookDeliveryHandler({
      redis: deps.redis,
      keys: deps.keys,
      urls: config.WEBHOOK_URLS,
      signer: new WebhookSigner(config.WEBHOOK_SECRET!),
      format: config.WEBHOOK_FORMAT,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      logger,
      ...overrides,
    }),
    batchSize: config.WORKER_BATCH_SIZE,
    blockMs: config.WORKER_BLOCK_MS,
    concurrency: config.WEBHOOK_CONCURRENCY,
    maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    backoff: { baseMs: config.RETRY_BASE_MS, maxMs: config.RETRY_MAX_MS },
    // A slow receiver holds a job up to the timeout; reclaim only well past it.
    claimIdleMs: Math.max(
      config.CLAIM_IDLE_MS,
      config.WEBHOOK_TIMEOUT_MS * 2 * Math.max(1, config.WEBHOOK_URLS.length),
    ),
    deadConsumerMs: config.CONSUMER_DEAD_MS,
    logger,
    metrics: metrics && consumerMetricsOf(metrics),
  });
}
