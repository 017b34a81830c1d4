import "reflect-metadata";

import { Redis } from "ioredis";

import type { Config } from "./config.js";
import { type DatabaseHandle, openDatabase } from "./db/database.js";
import { type GatewayServer, startGatewayServer } from "./http/gateway-server.js";
import { configuredEmbedderModel } from "./nlp/embedder-selection.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { MetricsRegistry } from "./observability/metrics.js";
import { registerReviewerMetrics } from "./observability/reviewer-metrics.js";
import { initTracing } from "./observability/tracing.js";
import { readReembedProgress } from "./pipeline/embed/reembed-progress.js";
import { registerReembedMetrics } from "./pipeline/embed/reembed-worker.js";
import { SearchService } from "./pipeline/embed/search-service.js";
import { IngestService } from "./pipeline/ingest/ingest-service.js";
import { ActiveJudgePolicy } from "./pipeline/judge/active-policy.js";
import { readConfiguredPolicy } from "./pipeline/judge/configured-policy.js";
import { JudgePolicyService } from "./pipeline/judge/judge-policy-service.js";
import { OverrideService } from "./pipeline/publish/override-service.js";
import { STAGE_STREAMS, type WorkerName } from "./pipeline/registry.js";
import { AppealService } from "./pipeline/review/appeal-service.js";
import { EscalationService } from "./pipeline/review/escalation-service.js";
import { PrecedentService } from "./pipeline/review/precedents.js";
import { loadReasonCodes } from "./pipeline/review/reason-codes.js";
import { createStageDeps, type StageOverrides } from "./pipeline/stage-deps.js";
import type { AppServices } from "./services/app-services.js";
import { AuthService } from "./services/auth-service.js";
import { readConfiguredKeys, writeBootstrapKeys } from "./services/configured-keys.js";
import { DeadLetterService } from "./services/dead-letter-service.js";
import { DryRunner } from "./services/dlq-dry-run.js";
import { KeyRevocationBus } from "./services/key-revocation-bus.js";
import { ProvenanceService } from "./services/provenance-service.js";
import { RateLimits } from "./services/rate-limits.js";
import { TrendQueryService } from "./services/trend-query-service.js";
import { checkConnectivity } from "./startup-checks.js";
import { StreamProducer } from "./streams/producer.js";
import { StreamKeys } from "./streams/stream-names.js";
import { StreamPubSub } from "./subscriptions/stream-pubsub.js";
import { TrendTenants } from "./subscriptions/tenant-filtered.js";
import { PostgresVectorStore } from "./vector/postgres-vector-store.js";
import type { createWebhookConsumer } from "./webhooks/webhook-worker.js";
import { OutboxRelay } from "./workers/outbox-relay.js";
import type { Reconciler } from "./workers/reconciler.js";
import type { StreamConsumer } from "./workers/runtime/stream-consumer.js";
import { type StartedWorkers, startWorkers } from "./workers/start-workers.js";

export { WORKER_NAMES, type WorkerName } from "./pipeline/registry.js";
export { loadEmbedder, loadEnricher } from "./pipeline/stage-deps.js";

/** Parts a test (or another deployment) may swap; everything else is built from config. */
export interface AppOverrides extends StageOverrides {
  logger?: Logger;
  /** The webhook worker's clock and HTTP client (tests). */
  webhooks?: Parameters<typeof createWebhookConsumer>[1];
}

export interface App {
  services: AppServices;
  gateway?: GatewayServer;
  metrics: MetricsRegistry;
  consumers: StreamConsumer[];
  /** The maintenance worker's parts, when it runs here (tests and campaigns read their reports). */
  maintenance: { reconciler?: Reconciler };
  /** Graceful: stop taking work, finish or return in-flight jobs, close connections. */
  stop(): Promise<void>;
}

/**
 * The composition root: builds every dependency from configuration and starts the gateway
 * and/or the named workers. `trendgate start` runs everything in one process; `serve` and
 * `worker <name>` run them separately.
 */
export async function startApp(
  config: Config,
  what: { gateway: boolean; workers: readonly WorkerName[]; port?: number },
  overrides: AppOverrides = {},
): Promise<App> {
  const logger = overrides.logger ?? createLogger(config.LOG_LEVEL);
  const tracing = await initTracing({
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    serviceName: what.gateway
      ? "trendgate-gateway"
      : `trendgate-${what.workers.join("-") || "worker"}`,
  });
  // Read before any connection opens: a bad policy file stops the process with nothing to close.
  const configuredPolicy = readConfiguredPolicy(config, logger);
  const reasonCodes = loadReasonCodes(config.REASON_CODES_PATH);
  await checkConnectivity(config);
  const database: DatabaseHandle = openDatabase(config.DATABASE_URL, {
    max: config.DATABASE_POOL_MAX,
  });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  redis.on("error", (error) => logger.warn({ err: error }, "redis connection error"));
  const keys = new StreamKeys(config.STREAM_PREFIX);
  // The relay's own connection fails fast while Redis is away: queued XADDs replayed after a
  // timed-out (rolled back) round would publish rows twice.
  const relayRedis = new Redis(config.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  relayRedis.on("error", () => undefined);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    relayRedis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const relay = new OutboxRelay({
    db: database.db,
    producer: new StreamProducer(relayRedis, keys, config.STREAM_MAX_LEN),
    pollMs: config.OUTBOX_POLL_MS,
    logger: logger.child({ component: "outbox-relay" }),
    listenUrl: what.workers.includes("relay") ? config.DATABASE_URL : undefined,
  });
  const metrics = new MetricsRegistry(redis, keys, STAGE_STREAMS, database.db);
  const activePolicy = new ActiveJudgePolicy({ db: database.db, ...configuredPolicy, logger });
  const stageDeps = createStageDeps(config, database.db, logger, activePolicy, overrides);
  const { store } = stageDeps;
  // The model records move to: /metrics and the embeddingProgress query both measure against it.
  const embedderModel = overrides.embedder?.model ?? configuredEmbedderModel(config);
  registerReembedMetrics(metrics.registry, database.db, embedderModel);
  registerReviewerMetrics(metrics.registry, database.db);

  let dryRunner: DryRunner | undefined;
  const pubsub = new StreamPubSub({ redis, keys, logger: logger.child({ component: "pubsub" }) });
  const revocations = new KeyRevocationBus({ redis, keys, logger });
  const search = new SearchService({ db: database.db, store, embedder: stageDeps.embedder });
  const services: AppServices = {
    config,
    db: database.db,
    redis,
    keys,
    logger,
    auth: new AuthService(database.db, await readConfiguredKeys(config), {
      onRevoked: (keyId) => revocations.announce(keyId),
    }),
    revocations,
    rateLimits: new RateLimits({
      redis,
      keys,
      logger,
      perMinute: {
        ingest: config.RATE_LIMIT_INGEST_PER_MINUTE,
        similarText: config.RATE_LIMIT_SIMILAR_TEXT_PER_MINUTE,
      },
    }),
    ingest: new IngestService({
      db: database.db,
      redis,
      keys,
      logger: logger.child({ component: "ingest" }),
      limits: {
        bodyMaxChars: config.TREND_BODY_MAX_CHARS,
        maxBatch: config.MAX_BATCH_INGEST,
        highWaterMark: config.INGEST_HIGH_WATER_MARK,
        stageHighWaterMark: config.STAGE_HIGH_WATER_MARK,
        defaultBudget: config.DEFAULT_BUDGET,
      },
      flushOutbox: (ids) => relay.flush(ids),
    }),
    trends: new TrendQueryService(database.db),
    provenance: new ProvenanceService(database.db),
    escalations: new EscalationService({
      db: database.db,
      logger,
      claimLeaseMs: config.CLAIM_LEASE_MS,
      separationOfDuties: config.SEPARATION_OF_DUTIES,
      reviewPolicy: async () => (await activePolicy.current()).policy.review,
      reasonCodes,
    }),
    reasonCodes,
    appeals: new AppealService({ db: database.db, logger }),
    overrides: new OverrideService(database.db),
    deadLetters: new DeadLetterService({ redis, keys, db: database.db, logger }),
    search,
    embeddingProgress: () => readReembedProgress(database.db, embedderModel),
    precedents: new PrecedentService({ db: database.db, search }),
    judgePolicy: new JudgePolicyService({
      db: database.db,
      active: activePolicy,
      enricher: stageDeps.enricher,
    }),
    pubsub,
    trendTenants: new TrendTenants(database.db),
    dryRunner: async () => (dryRunner ??= new DryRunner(stageDeps, database.pool)),
  };

  let workers: StartedWorkers;
  try {
    workers = await startWorkers(what.workers, stageDeps, {
      redis,
      keys,
      metrics,
      relay,
      webhooks: overrides.webhooks,
    });
  } catch (error) {
    await pubsub.close();
    redis.disconnect();
    relayRedis.disconnect();
    await database.close();
    throw error;
  }
  const { consumers, stoppables } = workers;
  const maintenance: App["maintenance"] = { reconciler: workers.reconciler };

  let gateway: GatewayServer | undefined;
  if (what.gateway) {
    // No bootstrap set when keys come from configuration: the deployment brings its own.
    const created =
      config.BOOTSTRAP_KEYS && !services.auth.hasConfiguredKeys
        ? await services.auth.bootstrapKeys()
        : [];
    if (created.length) {
      const file = await writeBootstrapKeys(config.BOOTSTRAP_KEYS_FILE, created);
      process.stdout.write(
        `\n  Trendgate created one API key per role (fresh database); they are in ${file} (mode 0600), shown nowhere else.\n\n`,
      );
    }
    gateway = await startGatewayServer(services, { port: what.port ?? config.PORT, metrics });
    // Load the persisted HNSW index (or rebuild it from Postgres) now, not on the first search.
    if (store instanceof PostgresVectorStore) {
      store
        .warmUp()
        .catch((error: unknown) =>
          logger.warn({ err: error }, "vector index warm-up failed; the first search retries"),
        );
    }
  }

  let stopped: Promise<void> | undefined;
  const app: App = {
    services,
    gateway,
    metrics,
    consumers,
    maintenance,
    stop() {
      stopped ??= (async () => {
        // app.gateway, not the local: a caller may have restarted the gateway on this app.
        await app.gateway?.close();
        await revocations.close();
        await Promise.allSettled(consumers.map((c) => c.stop({ timeoutMs: 10_000 })));
        await Promise.allSettled(stoppables.map((s) => s.stop()));
        await pubsub.close();
        await stageDeps.close();
        await redis.quit().catch(() => redis.disconnect());
        relayRedis.disconnect();
        await database.close();
        await tracing.flush().catch(() => undefined);
      })();
      return stopped;
    },
  };
  return app;
}
