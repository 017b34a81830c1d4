import { EmbeddedVectorStore } from "./embedded-vector-store.js";
import type { VectorStore } from "./vector-store.js";
import { WeaviateVectorStore } from "./weaviate-vector-store.js";

export interface CreateVectorStoreOptions {
  /** WEAVIATE_URL: when set, vectors go to Weaviate; otherwise to the embedded store. */
  weaviateUrl?: string;
  weaviateApiKey?: string;
  /** Weaviate class name (default "TrendVector"). */
  weaviateClass?: string;
  /** VECTOR_STORE_PATH: the embedded store's directory. */
  embeddedPath: string;
}

/** DESIGN.md: Weaviate when WEAVIATE_URL is set, else an embedded store that needs no server. */
export function createVectorStore(options: CreateVectorStoreOptions): VectorStore {
  if (options.weaviateUrl) {
    return new WeaviateVectorStore({
      url: options.weaviateUrl,
      ...(options.weaviateApiKey ? { apiKey: options.weaviateApiKey } : {}),
      ...(options.weaviateClass ? { className: options.weaviateClass } : {}),
    });
  }
  return new EmbeddedVectorStore({ path: options.embeddedPath });
}
