import type { Redis } from "ioredis";

import type { MetricsRegistry } from "../observability/metrics.js";
import { Reembedder } from "../pipeline/embed/reembed-worker.js";
import { STAGES, type WorkerName } from "../pipeline/registry.js";
import type { StageDeps } from "../pipeline/stage.js";
import { createStageConsumer } from "../pipeline/start-stage.js";
import type { StreamKeys } from "../streams/stream-names.js";
import { createWebhookConsumer } from "../webhooks/webhook-worker.js";
import { startMaintenanceWorker } from "./maintenance-worker.js";
import type { OutboxRelay } from "./outbox-relay.js";
import type { Reconciler } from "./reconciler.js";
import type { StreamConsumer } from "./runtime/stream-consumer.js";

/** What runs in this process, for the composition root to stop (and tests to read). */
export interface StartedWorkers {
  /** Stream consumers, started. */
  consumers: StreamConsumer[];
  /** Everything else that runs on its own timer: the re-embedder, the relay, maintenance. */
  stoppables: { stop(): Promise<void> | void }[];
  /** The maintenance worker's reconciler, when it runs here. */
  reconciler?: Reconciler;
}

/**
 * Starts the named workers (`trendgate start` runs them all, `worker <name>` one): a consumer per
 * stage of the registry, and the workers outside it. When one fails to start, what was started
 * is stopped before the error propagates.
 */
export async function startWorkers(
  names: readonly WorkerName[],
  stageDeps: StageDeps,
  infra: {
    redis: Redis;
    keys: StreamKeys;
    metrics: MetricsRegistry;
    relay: OutboxRelay;
    /** The webhook worker's clock and HTTP client (tests). */
    webhooks?: Parameters<typeof createWebhookConsumer>[1];
  },
): Promise<StartedWorkers> {
  const { config, db, logger, store } = stageDeps;
  const { redis, keys, metrics, relay } = infra;
  const started: StartedWorkers = { consumers: [], stoppables: [] };
  const { consumers, stoppables } = started;
  try {
    for (const stage of STAGES) {
      if (!names.includes(stage.name)) continue;
      consumers.push(
        await createStageConsumer(stage, stageDeps, { redis, keys, config, metrics, logger }),
      );
    }
    for (const worker of names) {
      switch (worker) {
        case "embedding": {
          // Items a previous EMBEDDER embedded move to this one in the background.
          const reembedder = new Reembedder({
            db,
            embedder: await stageDeps.embedder(),
            store,
            logger: logger.child({ component: "reembed" }),
            intervalMs: config.REEMBED_INTERVAL_MS,
          });
          reembedder.start();
          stoppables.push(reembedder);
          break;
        }
        case "relay":
          relay.start();
          stoppables.push(relay);
          break;
        case "webhooks": {
          const webhooks = createWebhookConsumer(
            { redis, keys, config, logger, metrics },
            infra.webhooks,
          );
          if (webhooks) consumers.push(webhooks);
          break;
        }
        case "maintenance": {
          const maintenance = startMaintenanceWorker({ db, redis, keys, config, logger, metrics });
          stoppables.push(maintenance);
          started.reconciler = maintenance.reconciler;
          break;
        }
      }
    }
    for (const consumer of consumers) await consumer.start();
  } catch (error) {
    await Promise.allSettled(consumers.map((c) => c.stop()));
    // The relay, re-embedder and maintenance timers would otherwise outlive the failed start.
    await Promise.allSettled(stoppables.map((s) => s.stop()));
    throw error;
  }
  return started;
}
