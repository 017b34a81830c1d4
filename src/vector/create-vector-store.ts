import type { Db } from "../db/database.js";
import { PostgresVectorStore } from "./postgres-vector-store.js";
import type { VectorStore } from "./vector-store.js";
import { WeaviateVectorStore } from "./weaviate-vector-store.js";

export interface CreateVectorStoreOptions {
  /** WEAVIATE_URL: when set, vectors go to Weaviate; otherwise to Postgres. */
  weaviateUrl?: string;
  weaviateApiKey?: string;
  /** Weaviate class name (default "TrendVector"). */
  weaviateClass?: string;
  /** The trends' database: the default store keeps vectors there. */
  db: Db;
  /** VECTOR_STORE_PATH: where this process persists its HNSW index. */
  indexPath: string;
  /** The embedding model the index holds (vectors of other models are not searched). */
  model?: string;
}

/** DESIGN.md: Weaviate when WEAVIATE_URL is set, else Postgres plus an in-process HNSW index. */
export function createVectorStore(options: CreateVectorStoreOptions): VectorStore {
  if (options.weaviateUrl) {
    return new WeaviateVectorStore({
      url: options.weaviateUrl,
      ...(options.weaviateApiKey ? { apiKey: options.weaviateApiKey } : {}),
      ...(options.weaviateClass ? { className: options.weaviateClass } : {}),
    });
  }
  return new PostgresVectorStore({
    db: options.db,
    path: options.indexPath,
    ...(options.model ? { model: options.model } : {}),
  });
}
