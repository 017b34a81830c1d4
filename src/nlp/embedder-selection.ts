/**
 * EMBEDDER: which model turns text into vectors, and where its vectors live. Each model keeps
 * its own vector index, so a model change never mixes two models' vectors in one index: the
 * re-embedding job (src/workers/reembed-worker.ts) fills the new model's index in the
 * background while searches use it.
 */
import type { Config } from "../config.js";
import type { Embedder } from "./embedder.js";
import { FAST_EMBEDDER_MODEL } from "./embedder-fast.js";

export const EMBEDDER_KINDS = ["fast", "use-lite", "openai"] as const;
export type EmbedderKind = (typeof EMBEDDER_KINDS)[number];

/** USE-lite's model name, here so config readers need not load TF.js to learn it. */
const USE_LITE_MODEL = "universal-sentence-encoder-lite";

type EmbedderConfig = Pick<
  Config,
  "EMBEDDER" | "EMBEDDER_THREAD" | "EMBEDDING_API_URL" | "EMBEDDING_API_KEY" | "EMBEDDING_MODEL"
>;

/** The model name the configured embedder records with each vector, known without loading it. */
export function configuredEmbedderModel(config: EmbedderConfig): string {
  switch (config.EMBEDDER) {
    case "fast":
      return FAST_EMBEDDER_MODEL;
    case "use-lite":
      return USE_LITE_MODEL;
    case "openai":
      return config.EMBEDDING_MODEL;
  }
}

export async function createConfiguredEmbedder(config: EmbedderConfig): Promise<Embedder> {
  switch (config.EMBEDDER) {
    case "fast": {
      const { createFastEmbedder } = await import("./embedder-fast.js");
      return createFastEmbedder();
    }
    case "use-lite": {
      if (!config.EMBEDDER_THREAD) return (await import("./embedder.js")).createOfflineEmbedder();
      return (await import("./threaded-embedder.js")).createThreadedEmbedder();
    }
    case "openai": {
      const { createOpenAiEmbedder } = await import("./embedder.js");
      // loadConfig guarantees the URL when EMBEDDER=openai.
      return createOpenAiEmbedder({
        baseUrl: config.EMBEDDING_API_URL ?? "",
        apiKey: config.EMBEDDING_API_KEY,
        model: config.EMBEDDING_MODEL,
      });
    }
  }
}

/**
 * Where the configured model's vectors live: USE-lite, the model of every store written before
 * EMBEDDER existed, keeps VECTOR_STORE_PATH / WEAVIATE_CLASS themselves (existing vectors stay
 * valid); any other model gets a sub-directory / class suffix named after it.
 */
export function vectorStoreLocation(
  config: Pick<Config, "VECTOR_STORE_PATH" | "WEAVIATE_CLASS"> & EmbedderConfig,
): { embeddedPath: string; weaviateClass: string } {
  const model = configuredEmbedderModel(config);
  if (model === USE_LITE_MODEL)
    return { embeddedPath: config.VECTOR_STORE_PATH, weaviateClass: config.WEAVIATE_CLASS };
  const slug = model.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  return {
    embeddedPath: `${config.VECTOR_STORE_PATH.replace(/\/+$/, "")}/${slug}`,
    weaviateClass: `${config.WEAVIATE_CLASS}_${slug}`,
  };
}
