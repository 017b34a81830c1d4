import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import type { Publisher } from "../mcp/publish-client.js";
// Types only: the model code (TF.js, wink, trained weights) and the MCP SDK load when a stage
// or a dry run needs them, so a gateway-only process stays small.
import type { Embedder } from "../nlp/embedder.js";
import { configuredEmbedderModel, vectorStoreLocation } from "../nlp/embedder-selection.js";
import type { Enricher } from "../nlp/enricher.js";
import type { Logger } from "../observability/logger.js";
import { createVectorStore } from "../vector/create-vector-store.js";
import type { VectorStore } from "../vector/vector-store.js";
import type { PolicySource } from "./judge/active-policy.js";
import type { StageDeps } from "./stage.js";

/** Adapters a test (or another deployment) may swap; everything else is built from config. */
export interface StageOverrides {
  enricher?: Enricher;
  embedder?: Embedder;
  vectorStore?: VectorStore;
  publisher?: Publisher;
}

/** Stage dependencies built on first use from config; `close()` releases what was built. */
export interface OwnedStageDeps extends StageDeps {
  close(): Promise<void>;
}

export function createStageDeps(
  config: Config,
  db: Db,
  logger: Logger,
  policy: PolicySource,
  overrides: StageOverrides = {},
): OwnedStageDeps {
  let enricher: Promise<Enricher> | undefined;
  let embedder: Promise<Embedder> | undefined;
  let publisher: Promise<Publisher> | undefined;
  const location = vectorStoreLocation(config);
  const store =
    overrides.vectorStore ??
    // One index per embedding model: a model change never mixes them. In Postgres each row
    // records its model and the index holds only this one; its files live under the model's path.
    createVectorStore({
      weaviateUrl: config.WEAVIATE_URL,
      weaviateApiKey: config.WEAVIATE_API_KEY,
      weaviateClass: location.weaviateClass,
      db,
      indexPath: location.embeddedPath,
      model: overrides.embedder?.model ?? configuredEmbedderModel(config),
    });
  return {
    config,
    db,
    logger,
    store,
    enricher: () =>
      (enricher ??= overrides.enricher
        ? Promise.resolve(overrides.enricher)
        : loadEnricher(config)),
    embedder: () =>
      (embedder ??= overrides.embedder
        ? Promise.resolve(overrides.embedder)
        : loadEmbedder(config)),
    publisher: () =>
      (publisher ??= overrides.publisher
        ? Promise.resolve(overrides.publisher)
        : connectPublisher(config)),
    policy,
    async close() {
      const settle = async <T>(
        p: Promise<T> | undefined,
        end: (v: T) => Promise<void> | undefined,
      ) => {
        if (p) await p.then(end).catch(() => undefined);
      };
      await settle(publisher, (p) => p.close());
      await settle(enricher, (e) => e.close?.());
      await settle(embedder, (e) => e.close());
      await store.close().catch(() => undefined);
    },
  };
}

/** The embedder EMBEDDER selects (src/nlp/embedder-selection.ts). */
export async function loadEmbedder(config: Config): Promise<Embedder> {
  const { createConfiguredEmbedder } = await import("../nlp/embedder-selection.js");
  return createConfiguredEmbedder(config);
}

/** The offline enricher: in a pool of ENRICH_THREADS worker threads, or in-process when 0. */
export async function loadEnricher(config: Config): Promise<Enricher> {
  if (config.ENRICH_THREADS > 0) {
    const { createPooledEnricher } = await import("./enrich/enricher-pool.js");
    return createPooledEnricher({
      threads: config.ENRICH_THREADS,
      maxChars: config.TREND_BODY_MAX_CHARS,
      warmupTexts: config.ENRICH_WARMUP_TEXTS,
    });
  }
  const { createOfflineEnricher } = await import("../nlp/enricher.js");
  return createOfflineEnricher({ maxChars: config.TREND_BODY_MAX_CHARS });
}

async function connectPublisher(config: Config): Promise<Publisher> {
  // The MCP SDK loads only in the publisher's process.
  const { connectMcpPublisher } = await import("../mcp/publish-client.js");
  const { bundledAdapterCommand } = await import("../mcp/bundled-adapter.js");
  if (config.PUBLISH_MCP_URL) return connectMcpPublisher({ url: config.PUBLISH_MCP_URL });
  const env: Record<string, string> = { PUBLISH_JSONL_PATH: config.PUBLISH_JSONL_PATH };
  if (config.PUBLISH_WEBHOOK_URL) env.PUBLISH_WEBHOOK_URL = config.PUBLISH_WEBHOOK_URL;
  if (config.PUBLISH_MCP_COMMAND) {
    const [command, ...args] = config.PUBLISH_MCP_COMMAND.split(/\s+/).filter(Boolean);
    return connectMcpPublisher({ command: command!, args, env });
  }
  return connectMcpPublisher({ ...bundledAdapterCommand(), env });
}
