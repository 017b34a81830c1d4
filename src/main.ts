import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { SpanKind } from "@opentelemetry/api";
import { hostname } from "node:os";
import { Redis } from "ioredis";
import type { Config } from "./config.js";
import { type DatabaseHandle, openDatabase } from "./db/database.js";
import { ensureDatabaseExists, migrateToLatest, redactUrl } from "./db/migrate.js";
import { startGatewayServer, type GatewayServer } from "./http/gateway-server.js";
import type { Publisher } from "./mcp/publish-client.js";
// Types only: the model code (TF.js, wink, trained weights) loads when a worker or query needs
// it, so a gateway-only process stays small.
import type { Embedder } from "./nlp/embedder.js";
import type { Enricher } from "./nlp/enricher.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { MicroBatchEmbedder } from "./nlp/micro-batch-embedder.js";
import { MetricsRegistry } from "./observability/metrics.js";
import { initTracing, withItemSpan } from "./observability/tracing.js";
import type { AppServices } from "./services/app-services.js";
import { AuthService } from "./services/auth-service.js";
import { DeadLetterService } from "./services/dead-letter-service.js";
import { DryRunner } from "./services/dlq-dry-run.js";
import { EscalationService } from "./pipeline/review/escalation-service.js";
import { IngestService } from "./pipeline/ingest/ingest-service.js";
import { OverrideService } from "./pipeline/publish/override-service.js";
import { PolicyProvider } from "./pipeline/judge/policy-provider.js";
import { readConfiguredKeys, writeBootstrapKeys } from "./services/configured-keys.js";
import { KeyRevocationBus } from "./services/key-revocation-bus.js";
import { RateLimits } from "./services/rate-limits.js";
import { ProvenanceService } from "./services/provenance-service.js";
import { SearchService } from "./services/search-service.js";
import { TrendQueryService } from "./services/trend-query-service.js";
import { StreamProducer } from "./streams/producer.js";
import { GROUPS, StreamKeys, STREAMS } from "./streams/stream-names.js";
import { StreamPubSub } from "./subscriptions/stream-pubsub.js";
import { TrendTenants } from "./subscriptions/tenant-filtered.js";
import { createVectorStore } from "./vector/create-vector-store.js";
import type { VectorStore } from "./vector/vector-store.js";
import { createEmbeddingDeadLetterHook, createEmbeddingHandler } from "./pipeline/embed/embedding-worker.js";
import { EscalationSweeper } from "./pipeline/review/escalation-sweeper.js";
import { LagMonitor } from "./workers/lag-monitor.js";
import { createEtlHandler } from "./pipeline/enrich/etl-worker.js";
import { createJudgeHandler } from "./pipeline/judge/judge-worker.js";
import { OutboxRelay } from "./workers/outbox-relay.js";
import { createPublisherHandler } from "./pipeline/publish/publisher-worker.js";
import { type JobHandler, StreamConsumer, type StreamConsumerOptions } from "./workers/runtime/stream-consumer.js";

/** Span names of DESIGN.md's steps, by consumer stage. */
const SPAN_OF_STAGE: Record<string, string> = {
  etl: "etl",
  embedding: "embed",
  judge: "judge",
  publisher: "publish",
};

export const WORKER_NAMES = ["etl", "embedding", "judge", "publisher", "relay", "maintenance"] as const;
export type WorkerName = (typeof WORKER_NAMES)[number];

/** A dependency that cannot be reached at start; the CLI prints `message` on one line. */
export class StartupError extends Error {
  readonly code = "STARTUP_FAILED";
}

/** Parts a test (or another deployment) may swap; everything else is built from config. */
export interface AppOverrides {
  enricher?: Enricher;
  embedder?: Embedder;
  vectorStore?: VectorStore;
  publisher?: Publisher;
  logger?: Logger;
}

export interface App {
  services: AppServices;
  gateway?: GatewayServer;
  metrics: MetricsRegistry;
  consumers: StreamConsumer[];
  /** Graceful: stop taking work, finish or return in-flight jobs, close connections. */
  stop(): Promise<void>;
}

/** Checks both servers answer before anything else starts, naming the URL that does not. */
export async function checkConnectivity(config: Config): Promise<void> {
  const probe = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new StartupError(`cannot reach Redis at ${redactUrl(config.REDIS_URL)}: ${(error as Error).message}`);
  } finally {
    probe.disconnect();
  }
  try {
    await ensureDatabaseExists(config.DATABASE_URL);
  } catch (error) {
    throw new StartupError(`cannot reach Postgres at ${redactUrl(config.DATABASE_URL)}: ${(error as Error).message}`);
  }
}

/** Creates the database if needed and applies pending migrations. */
export async function migrate(config: Config, logger: Logger): Promise<void> {
  await checkConnectivity(config);
  const database = openDatabase(config.DATABASE_URL, { max: 1 });
  try {
    const results = await migrateToLatest(database.db);
    for (const r of results) logger.info({ migration: r.migrationName, status: r.status }, "migration applied");
    if (results.length === 0) logger.info("database schema is up to date");
  } finally {
    await database.close();
  }
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
    serviceName: what.gateway ? "trendgate-gateway" : `trendgate-${what.workers.join("-") || "worker"}`,
  });
  await checkConnectivity(config);
  const database: DatabaseHandle = openDatabase(config.DATABASE_URL, { max: 10 });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  redis.on("error", (error) => logger.warn({ err: error }, "redis connection error"));
  const keys = new StreamKeys(config.STREAM_PREFIX);
  // The relay's own connection fails fast while Redis is away: queued XADDs replayed after a
  // timed-out (rolled back) round would publish rows twice.
  const relayRedis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
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
  const metrics = new MetricsRegistry(redis, keys, [STREAMS.ingest, STREAMS.embeddingJobs, STREAMS.judgeJobs, STREAMS.publishJobs], database.db);

  let embedderPromise: Promise<Embedder> | undefined;
  const embedder = () => (embedderPromise ??= overrides.embedder ? Promise.resolve(overrides.embedder) : loadEmbedder(config));
  const store =
    overrides.vectorStore ??
    createVectorStore({ weaviateUrl: config.WEAVIATE_URL, weaviateApiKey: config.WEAVIATE_API_KEY, weaviateClass: config.WEAVIATE_CLASS, embeddedPath: config.VECTOR_STORE_PATH });

  let dryRunner: Promise<DryRunner> | undefined;
  let dryRunEnricher: Promise<Enricher> | undefined;
  const pubsub = new StreamPubSub({ redis, keys, logger: logger.child({ component: "pubsub" }) });
  const revocations = new KeyRevocationBus({ redis, keys, logger });
  const services: AppServices = {
    config,
    db: database.db,
    redis,
    keys,
    logger,
    auth: new AuthService(database.db, await readConfiguredKeys(config), { onRevoked: (keyId) => revocations.announce(keyId) }),
    revocations,
    rateLimits: new RateLimits({
      redis,
      keys,
      logger,
      perMinute: { ingest: config.RATE_LIMIT_INGEST_PER_MINUTE, similarText: config.RATE_LIMIT_SIMILAR_TEXT_PER_MINUTE },
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
    }),
    overrides: new OverrideService(database.db),
    deadLetters: new DeadLetterService({ redis, keys, db: database.db, logger }),
    search: new SearchService({ db: database.db, store, embedder }),
    pubsub,
    trendTenants: new TrendTenants(database.db),
    dryRunner: () =>
      (dryRunner ??= Promise.resolve(
        new DryRunner({
          db: database.db,
          enricher: () => (dryRunEnricher ??= loadEnricher(config)),
          embedder,
          store,
          policy: new PolicyProvider(config.POLICY_PATH, { minConfidence: config.JUDGE_MIN_CONFIDENCE, maxToxicity: config.JUDGE_MAX_TOXICITY }, logger),
        }),
      )),
  };

  const consumers: StreamConsumer[] = [];
  const stoppables: { stop(): Promise<void> | void }[] = [];
  const consumerName = (stage: string) => `${hostname()}-${process.pid}-${stage}-${randomBytes(2).toString("hex")}`;
  const consume = (
    stage: string,
    stream: string,
    group: string,
    stageHandler: JobHandler,
    onDeadLetter?: StreamConsumerOptions["onDeadLetter"],
    concurrency = config.WORKER_CONCURRENCY,
  ) => {
    // One span per job, child of the span that wrote the entry (its traceparent), so one trace
    // follows the item across processes.
    const spanName = SPAN_OF_STAGE[stage] ?? stage;
    const handler: JobHandler = (job, signal) =>
      withItemSpan(
        spanName,
        job.envelope,
        { "trendgate.stage": stage, "trendgate.trend_id": job.envelope.trendId, "messaging.message.id": job.entryId, "trendgate.attempt": job.attempt },
        () => stageHandler(job, signal),
        SpanKind.CONSUMER,
      );
    const consumer = new StreamConsumer({
      redis,
      keys,
      stream,
      group,
      consumer: consumerName(stage),
      handler,
      onDeadLetter,
      batchSize: config.WORKER_BATCH_SIZE,
      blockMs: config.WORKER_BLOCK_MS,
      concurrency,
      maxAttempts: config.RETRY_MAX_ATTEMPTS,
      backoff: { baseMs: config.RETRY_BASE_MS, maxMs: config.RETRY_MAX_MS },
      claimIdleMs: config.CLAIM_IDLE_MS,
      deadConsumerMs: config.CONSUMER_DEAD_MS,
      logger: logger.child({ stage }),
      metrics: {
        processed: (s, ms) => {
          metrics.processed.inc({ stage: s });
          metrics.latency.observe({ stage: s }, ms / 1000);
        },
        failed: (s) => metrics.failed.inc({ stage: s }),
        retried: (s) => metrics.retried.inc({ stage: s }),
        deadLettered: (s) => metrics.deadLettered.inc({ stage: s }),
        reclaimed: (s, n) => metrics.reclaimed.inc({ stage: s }, n),
        consumersRemoved: (s, n) => metrics.consumersRemoved.inc({ stage: s }, n),
      },
    });
    consumers.push(consumer);
  };

  let publisher: Publisher | undefined;
  let enricher: Enricher | undefined;
  try {
    for (const worker of what.workers) {
      switch (worker) {
        case "etl":
          enricher = overrides.enricher ?? (await loadEnricher(config));
          consume("etl", STREAMS.ingest, GROUPS.etl, createEtlHandler({ db: database.db, enricher, logger }));
          break;
        case "embedding": {
          // More handlers in flight than other stages, so their single-text calls coalesce
          // into model batches (MicroBatchEmbedder).
          const e = new MicroBatchEmbedder(await embedder(), 32);
          consume(
            "embedding",
            STREAMS.embeddingJobs,
            GROUPS.embedding,
            createEmbeddingHandler({ db: database.db, embedder: e, store, logger }),
            createEmbeddingDeadLetterHook({ db: database.db, logger }),
            config.EMBEDDING_CONCURRENCY,
          );
          break;
        }
        case "judge": {
          const policy = new PolicyProvider(config.POLICY_PATH, { minConfidence: config.JUDGE_MIN_CONFIDENCE, maxToxicity: config.JUDGE_MAX_TOXICITY }, logger);
          consume("judge", STREAMS.judgeJobs, GROUPS.judge, createJudgeHandler({ db: database.db, policy, logger }));
          break;
        }
        case "publisher": {
          publisher = overrides.publisher ?? (await connectPublisher(config));
          consume("publisher", STREAMS.publishJobs, GROUPS.publisher, createPublisherHandler({ db: database.db, publisher, logger }));
          break;
        }
        case "relay":
          relay.start();
          stoppables.push(relay);
          break;
        case "maintenance": {
          const sweeper = new EscalationSweeper({ db: database.db, logger, slaMs: config.ESCALATION_SLA_MS, intervalMs: config.SWEEP_INTERVAL_MS });
          sweeper.start();
          stoppables.push(sweeper);
          const lagMonitor = new LagMonitor({
            redis,
            keys,
            producer: new StreamProducer(redis, keys, config.STREAM_MAX_LEN),
            logger,
            streams: [STREAMS.ingest, STREAMS.embeddingJobs, STREAMS.judgeJobs, STREAMS.publishJobs],
            lagThreshold: config.LAG_ALERT_THRESHOLD,
            pendingAgeThresholdMs: config.PENDING_AGE_ALERT_MS,
            intervalMs: config.SWEEP_INTERVAL_MS,
          });
          lagMonitor.start();
          stoppables.push(lagMonitor);
          break;
        }
      }
    }
    for (const consumer of consumers) await consumer.start();
  } catch (error) {
    await Promise.allSettled(consumers.map((c) => c.stop()));
    await pubsub.close();
    redis.disconnect();
    relayRedis.disconnect();
    await database.close();
    throw error;
  }

  let gateway: GatewayServer | undefined;
  if (what.gateway) {
    // No bootstrap set when keys come from configuration: the deployment brings its own.
    const created = config.BOOTSTRAP_KEYS && !services.auth.hasConfiguredKeys ? await services.auth.bootstrapKeys() : [];
    if (created.length) {
      const file = await writeBootstrapKeys(config.BOOTSTRAP_KEYS_FILE, created);
      process.stdout.write(`\n  Trendgate created one API key per role (fresh database); they are in ${file} (mode 0600), shown nowhere else.\n\n`);
    }
    gateway = await startGatewayServer(services, { port: what.port ?? config.PORT, metrics });
  }

  let stopped: Promise<void> | undefined;
  const app: App = {
    services,
    gateway,
    metrics,
    consumers,
    stop() {
      stopped ??= (async () => {
        // app.gateway, not the local: a caller may have restarted the gateway on this app.
        await app.gateway?.close();
        await revocations.close();
        await Promise.allSettled(consumers.map((c) => c.stop({ timeoutMs: 10_000 })));
        await Promise.allSettled(stoppables.map((s) => s.stop()));
        await pubsub.close();
        await publisher?.close().catch(() => undefined);
        await enricher?.close?.().catch(() => undefined);
        if (dryRunEnricher) await (await dryRunEnricher).close?.().catch(() => undefined);
        if (embedderPromise) await (await embedderPromise).close().catch(() => undefined);
        await store.close().catch(() => undefined);
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

/** The configured embedder: an OpenAI-compatible endpoint when set, else the offline model. */
export async function loadEmbedder(config: Config): Promise<Embedder> {
  const { createOfflineEmbedder, createOpenAiEmbedder } = await import("./nlp/embedder.js");
  if (config.EMBEDDING_API_URL) {
    return createOpenAiEmbedder({ baseUrl: config.EMBEDDING_API_URL, apiKey: config.EMBEDDING_API_KEY, model: config.EMBEDDING_MODEL });
  }
  if (!config.EMBEDDER_THREAD) return createOfflineEmbedder();
  const { createThreadedEmbedder } = await import("./nlp/threaded-embedder.js");
  return createThreadedEmbedder();
}

export async function loadEnricher(config: Config): Promise<Enricher> {
  const { createOfflineEnricher } = await import("./nlp/enricher.js");
  return createOfflineEnricher({ maxChars: config.TREND_BODY_MAX_CHARS });
}

async function connectPublisher(config: Config): Promise<Publisher> {
  // The MCP SDK loads only in the publisher's process.
  const { bundledAdapterCommand, connectMcpPublisher } = await import("./mcp/publish-client.js");
  if (config.PUBLISH_MCP_URL) return connectMcpPublisher({ url: config.PUBLISH_MCP_URL });
  const env: Record<string, string> = { PUBLISH_JSONL_PATH: config.PUBLISH_JSONL_PATH };
  if (config.PUBLISH_WEBHOOK_URL) env.PUBLISH_WEBHOOK_URL = config.PUBLISH_WEBHOOK_URL;
  if (config.PUBLISH_MCP_COMMAND) {
    const [command, ...args] = config.PUBLISH_MCP_COMMAND.split(/\s+/).filter(Boolean);
    return connectMcpPublisher({ command: command!, args, env });
  }
  return connectMcpPublisher({ ...bundledAdapterCommand(), env });
}
