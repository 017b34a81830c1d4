import { availableParallelism } from "node:os";

import { z } from "zod";

import { DeadlineConfigError, parseDeadlineLadders } from "./pipeline/review/deadline-ladder.js";

/**
 * Every setting Trendgate reads from the environment, with a default that works on a developer
 * machine. Parsed once at start; a bad value stops the process with a message naming the
 * variable (see {@link ConfigError}).
 */
const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);
const num = (def: number, min = 0, max = Number.POSITIVE_INFINITY) =>
  z.coerce.number().min(min).max(max).default(def);
const bool = (def: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", ""])
    .default(def ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");
const url = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((v) => protocols.some((p) => v.startsWith(`${p}:`)), {
      message: `must start with ${protocols.map((p) => `${p}:`).join(" or ")}`,
    });

const schema = z.object({
  NODE_ENV: z.string().default("development"),
  DATABASE_URL: url(["postgres", "postgresql"]).default(
    "postgres://trendgate:trendgate@127.0.0.1:5432/trendgate",
  ),
  /**
   * Postgres connections of a gateway or worker process. Every stage of `trendgate start` shares
   * them (ETL and relay transactions, embedding, judge and publisher handlers, the gateway).
   */
  DATABASE_POOL_MAX: int(20, 2),
  REDIS_URL: url(["redis", "rediss"]).default("redis://127.0.0.1:6379"),
  PORT: int(4000).refine((p) => p <= 65535, "must be a TCP port"),
  HOST: z.string().default("0.0.0.0"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Prepended to every Redis key Trendgate owns, so several deployments (or tests) share a Redis. */
  STREAM_PREFIX: z.string().default(""),
  WEAVIATE_URL: url(["http", "https"]).optional(),
  WEAVIATE_API_KEY: z.string().optional(),
  /** The Weaviate class (collection) that holds trend vectors. */
  WEAVIATE_CLASS: z
    .string()
    .regex(/^[A-Z][A-Za-z0-9_]*$/, "must be a Weaviate class name (starts upper-case)")
    .default("TrendVector"),
  VECTOR_STORE_PATH: z.string().default("data/vectors"),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(["http", "https"]).optional(),
  TRENDGATE_API_KEYS: z.string().default(""),
  /** A file of keys in TRENDGATE_API_KEYS syntax (one pair per line or comma); SIGHUP re-reads it. */
  TRENDGATE_API_KEYS_FILE: z.string().optional(),
  PUBLISH_JSONL_PATH: z.string().default("data/published.jsonl"),
  PUBLISH_WEBHOOK_URL: url(["http", "https"]).optional(),
  /** Command line that starts the MCP publish adapter (stdio); empty = the bundled one. */
  PUBLISH_MCP_COMMAND: z.string().default(""),
  /** Streamable HTTP URL of an MCP publish adapter; wins over PUBLISH_MCP_COMMAND when set. */
  PUBLISH_MCP_URL: url(["http", "https"]).optional(),
  POLICY_PATH: z.string().optional(),
  /**
   * Which embedder: `fast` (static model distilled from USE-lite, shipped in src/nlp/models),
   * `use-lite` (Universal Sentence Encoder lite on TF.js) or `openai` (EMBEDDING_API_URL).
   * Unset: `openai` when EMBEDDING_API_URL is set (as before EMBEDDER existed), else `fast` (within
   * 0.011 of USE-lite on the validation figures, at ~300× its speed: src/nlp/README.md).
   */
  EMBEDDER: z.enum(["fast", "use-lite", "openai"]).optional(),
  /** OpenAI-compatible endpoint (OpenAI, Ollama, vLLM) for EMBEDDER=openai. */
  EMBEDDING_API_URL: url(["http", "https"]).optional(),
  EMBEDDING_API_KEY: z.string().optional(),
  EMBEDDING_MODEL: z.string().default("text-embedding-3-small"),
  /** Run USE-lite in a worker thread, off the event loop (uses a second core). */
  EMBEDDER_THREAD: bool(true),
  /**
   * Worker threads the ETL stage runs the enrichment models in (a piscina pool; each thread
   * loads the models once), so they use the cores while the main thread does the I/O.
   * Default: one per core. The cores but one left CPU idle at saturation: on 2 cores the one
   * enrichment thread was the bottleneck while the main thread was busy 37 % of the time, and
   * a second thread moved the pipeline 657 -> 749 items/s (bench/pipeline, medians of three);
   * at 200 items/s end to end the peak backlog fell. 0 runs the models on the main thread
   * (tests, CLI).
   */
  ENRICH_THREADS: int(Math.max(1, availableParallelism()), 0),
  /**
   * Inputs each enrichment thread runs at start-up, before the ETL stage takes work, so the
   * first traffic after a restart meets optimised code (nlp/warmup-inputs.ts). On 2 cores, the
   * first 30 s at 100 items/s after a start had an end-to-end p99 of 4.3 s without it and 2.1 s
   * with it (bench/pipeline/cold-start.ts, medians of three); it costs ~2 s of start-up. 0 skips
   * it.
   */
  ENRICH_WARMUP_TEXTS: int(1000, 0),
  /** How often the embedding worker looks for vectors of another model to re-embed. */
  REEMBED_INTERVAL_MS: int(5000, 100),

  // Judge thresholds (DESIGN.md): below confidence or above toxicity → a human decides.
  JUDGE_MIN_CONFIDENCE: num(0.6, 0, 1),
  JUDGE_MAX_TOXICITY: num(0.8, 0, 1),
  /**
   * Share of the items the Judge would publish automatically that go to a moderator first
   * (issue type audit_sample), so the live leak rate is measured, not assumed.
   */
  AUDIT_SAMPLE_RATE: num(0.01, 0, 1),

  // Stream runtime.
  /**
   * Entries one read takes. A batch stage (ETL) commits a read in one transaction, so this is its
   * batch size: 100 spreads the per-commit round trips over ~6× more items than 16 did, and a
   * read of the real models takes ~0.1 s, far below CLAIM_IDLE_MS. Per-item stages read at
   * most their free handler slots, so for them it changes nothing.
   */
  WORKER_BATCH_SIZE: int(100, 1),
  WORKER_BLOCK_MS: int(1000, 1),
  WORKER_CONCURRENCY: int(4, 1),
  /** Handlers in flight in the embedding stage: their calls are batched for the model. */
  EMBEDDING_CONCURRENCY: int(16, 1),
  /** Publish tool calls in flight in the publish stage, across its reads (each waits on MCP). */
  PUBLISH_CONCURRENCY: int(16, 1),
  RETRY_MAX_ATTEMPTS: int(5, 1),
  RETRY_BASE_MS: int(200, 1),
  RETRY_MAX_MS: int(30_000, 1),
  CLAIM_IDLE_MS: int(30_000, 100),
  CONSUMER_DEAD_MS: int(300_000, 1000),
  OUTBOX_POLL_MS: int(200, 10),
  /** Ingest answers BACKPRESSURE when the ingest stream holds more unprocessed entries. */
  INGEST_HIGH_WATER_MARK: int(10_000, 1),
  /** Ingest also answers BACKPRESSURE when the embedding, judge or publisher backlog is over this. */
  STAGE_HIGH_WATER_MARK: int(10_000, 1),
  /**
   * History kept on each stream for subscriptions to resume from. Work streams are trimmed only
   * below what their group acknowledged (the maintenance worker), event streams by XADD MAXLEN ~.
   */
  STREAM_MAX_LEN: int(100_000, 100),

  // Gateway limits.
  MAX_BODY_BYTES: int(1_000_000, 1024),
  MAX_QUERY_DEPTH: int(10, 1),
  MAX_QUERY_COST: int(5000, 1),
  MAX_BATCH_INGEST: int(100, 1),
  TREND_BODY_MAX_CHARS: int(50_000, 1),
  /** Cost limit where a list multiplies what it selects by its `first` (src/http/list-cost.ts). */
  MAX_LIST_COST: int(20_000, 1),

  /** How long a moderator's claim lasts before the escalation returns to the queue. */
  CLAIM_LEASE_MS: int(10 * 60_000, 1000),
  /** Per issue type, how long an escalation may wait before an operator alert: `type:ms,...`. */
  ESCALATION_SLA_MS: z
    .string()
    .default("low_confidence:3600000,toxicity:900000,budget_overrun:1800000,audit_sample:3600000")
    .transform((value, ctx) => {
      const out: Record<string, number> = {};
      for (const pair of value
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)) {
        const [type, ms] = pair.split(":");
        const n = Number(ms);
        if (!type || !Number.isInteger(n) || n <= 0) {
          ctx.addIssue({ code: "custom", message: `"${pair}" must be issue_type:milliseconds` });
          return z.NEVER;
        }
        out[type] = n;
      }
      return out;
    }),
  /**
   * Per issue type, a ladder of deadlines (src/pipeline/review/deadline-ladder.ts):
   * `TOXICITY:alert@15m,reassign:senior@30m,default:REJECT@2h`. Empty: no deadlines.
   */
  ESCALATION_DEADLINES: z
    .string()
    .default("")
    .transform((value, ctx) => {
      try {
        return parseDeadlineLadders(value);
      } catch (error) {
        if (!(error instanceof DeadlineConfigError)) throw error;
        ctx.addIssue({ code: "custom", message: error.message });
        return z.NEVER;
      }
    }),
  /** The reason-code taxonomy (JSON); unset: the shipped DSA statement-of-reasons set. */
  REASON_CODES_PATH: z.string().optional(),
  /** Signed webhooks (Standard Webhooks): receivers, comma-separated; empty = off. */
  WEBHOOK_URLS: z
    .string()
    .default("")
    .transform((value, ctx) => {
      const urls = value
        .split(",")
        .map((u) => u.trim())
        .filter(Boolean);
      for (const u of urls) {
        if (!/^https?:\/\/[^\s]+$/.test(u) || !URL.canParse(u)) {
          ctx.addIssue({ code: "custom", message: `"${u}" is not an http(s) URL` });
          return z.NEVER;
        }
      }
      return urls;
    }),
  /** `whsec_<base64>` (Standard Webhooks); required when WEBHOOK_URLS is set. */
  WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, "must be whsec_<base64> (Standard Webhooks)")
    .refine(
      (s) => Buffer.from(s.slice(6), "base64").length >= 24,
      "the key must be at least 24 bytes",
    )
    .optional(),
  /** `standard` (Standard Webhooks JSON: type, timestamp, data) or `slack` (adds `text` for an incoming webhook). */
  WEBHOOK_FORMAT: z.enum(["standard", "slack"]).default("standard"),
  /** Attempts per delivery before the dead letters (webhook:dlq); backoff from RETRY_BASE_MS/RETRY_MAX_MS. */
  WEBHOOK_MAX_ATTEMPTS: int(8, 1),
  WEBHOOK_TIMEOUT_MS: int(5000, 100),
  /** Deliveries in flight per webhooks worker (they wait on receivers, not on the CPU). */
  WEBHOOK_CONCURRENCY: int(16, 1),
  SWEEP_INTERVAL_MS: int(5000, 100),
  /**
   * An item in RECEIVED … APPROVED untouched this long with no job for it in the outbox, its
   * stage's stream or its group's pending list is re-enqueued by the maintenance worker.
   */
  RECONCILE_AFTER_MS: int(600_000, 100),
  /** A consumer group with more undelivered entries than this raises an operator alert. */
  LAG_ALERT_THRESHOLD: int(1000, 1),
  /** A group whose oldest pending entry is older than this raises an operator alert. */
  PENDING_AGE_ALERT_MS: int(60_000, 100),

  /** Budget each item gets from the planner, in compute units (DESIGN.md "Budget"). */
  DEFAULT_BUDGET: num(100, 0),
  CONSOLE_ENABLED: bool(true),
  /** On a fresh database, create and print one API key per role at start (for newcomers). */
  BOOTSTRAP_KEYS: bool(true),
  /** Where bootstrap keys are written (mode 0600), never to stdout. */
  BOOTSTRAP_KEYS_FILE: z.string().default("data/bootstrap-keys.txt"),
  /** The key that ingested an item may not resolve its escalation. */
  SEPARATION_OF_DUTIES: bool(false),

  // Doors (issue 12).
  /** Serve /metrics on this port only (no credentials); unset = not served apart. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Serve /metrics on the API port to `Authorization: Bearer <token>` only. */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** A scrape within this long of the last one gets the same figures (no queries). */
  METRICS_CACHE_MS: int(2000, 0),
  /** A socket that sends no connection_init within this long is closed (4408). */
  WS_INIT_TIMEOUT_MS: int(3000, 100),
  WS_MAX_SOCKETS_PER_KEY: int(20, 1),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: int(20, 1),
  /** Items one key may ingest per minute (0 = unlimited). */
  RATE_LIMIT_INGEST_PER_MINUTE: int(60_000, 0),
  /** `similarTrends(text:)` calls one key may make per minute (0 = unlimited). */
  RATE_LIMIT_SIMILAR_TEXT_PER_MINUTE: int(600, 0),
});

type EmbedderKind = NonNullable<z.infer<typeof schema>["EMBEDDER"]>;
export type Config = Omit<z.infer<typeof schema>, "EMBEDDER"> & { EMBEDDER: EmbedderKind };

/** A configuration value that does not parse; the message names the variable. */
export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join("; ")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment once; throws {@link ConfigError} naming each bad variable. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Config> = {},
): Config {
  // Empty strings are "unset" for optional values, as docker-compose passes them.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ variable: String(i.path[0]), message: i.message })),
    );
  }
  const embedder = parsed.data.EMBEDDER ?? (parsed.data.EMBEDDING_API_URL ? "openai" : "fast");
  if (embedder === "openai" && !parsed.data.EMBEDDING_API_URL) {
    throw new ConfigError([{ variable: "EMBEDDER", message: "openai needs EMBEDDING_API_URL" }]);
  }
  if (parsed.data.WEBHOOK_URLS.length > 0 && !parsed.data.WEBHOOK_SECRET) {
    throw new ConfigError([
      { variable: "WEBHOOK_SECRET", message: "required when WEBHOOK_URLS is set (whsec_<base64>)" },
    ]);
  }
  return { ...parsed.data, EMBEDDER: embedder, ...overrides };
}

/** The names config reads, for docs and the docker-compose check. */
export const CONFIG_VARIABLES = Object.keys(schema.shape) as (keyof Config)[];
