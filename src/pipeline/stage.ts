import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import type { Publisher } from "../mcp/publish-client.js";
import type { Embedder } from "../nlp/embedder.js";
import type { Enricher } from "../nlp/enricher.js";
import type { Logger } from "../observability/logger.js";
import type { VectorStore } from "../vector/vector-store.js";
import type {
  BatchHandler,
  JobHandler,
  StreamConsumerOptions,
} from "../workers/runtime/stream-consumer.js";
import type { PolicySource } from "./judge/active-policy.js";

/**
 * What a stage's code may use. Adapters load on first use (models, the MCP client), so a process
 * pays only for the stages it runs; the composition root (main.ts) owns and closes them.
 */
export interface StageDeps {
  config: Config;
  db: Db;
  logger: Logger;
  enricher(): Promise<Enricher>;
  embedder(): Promise<Embedder>;
  store: VectorStore;
  publisher(): Promise<Publisher>;
  /** The Judge policy in force (stored versions; see active-policy.ts). */
  policy: PolicySource;
}

/** A stage ready to consume: what the stream runtime calls for each job, or each read. */
export interface StageRuntime {
  handler: JobHandler;
  /** When set, the runtime hands it every entry of one read at once (batch at a time). */
  batchHandler?: BatchHandler;
  onDeadLetter?: StreamConsumerOptions["onDeadLetter"];
  /** Handlers in flight; default WORKER_CONCURRENCY. */
  concurrency?: number;
}

/** The code of one stage, loaded by its registry entry. */
export interface StageModule {
  /**
   * The stage's handlers. The dead-letter dry run calls this too, with a database whose writes
   * are rolled back and recording adapters (services/dlq-dry-run.ts), so start() must not
   * write anything itself beyond idempotent setup.
   */
  start(deps: StageDeps): Promise<StageRuntime>;
}
