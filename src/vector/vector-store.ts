import type { Kysely } from "kysely";

import type { Database } from "../db/types.js";

/**
 * The vector store contract shared by the Postgres store (the default: vectors in Postgres, an
 * HNSW index per process) and the Weaviate adapter (deployments past one machine).
 * The embedding worker writes through it; `similarTrends` reads through it.
 */

/** What a vector is filtered by. Kept small on purpose: the trend itself lives in Postgres. */
export interface VectorMetadata {
  source: string;
  status: string;
  /** ISO 8601; stores normalise it to `Date#toISOString()` form. */
  createdAt: string;
}

export interface VectorItem {
  /** The EnrichedTrend uuid (Weaviate only accepts UUIDs as object ids; both stores lower-case it). */
  id: string;
  /** As stored: float32 precision, not normalised. */
  vector: number[];
  metadata: VectorMetadata;
  /** The embedding model that made the vector; the Postgres store records it per vector. */
  model?: string;
}

/**
 * Every field narrows the result; an absent field does not filter. `status: []` matches nothing
 * (a list of allowed values that allows none), so pass `undefined` for "any status".
 */
export interface VectorFilter {
  source?: string;
  status?: string[];
  /** Exclusive: only vectors created strictly after this ISO instant. */
  createdAfter?: string;
  /** Exclusive: only vectors created strictly before this ISO instant. */
  createdBefore?: string;
  excludeIds?: string[];
}

export interface VectorMatch {
  id: string;
  /** Cosine similarity in [-1, 1]; higher is closer. */
  score: number;
}

/** Writes vectors inside the caller's Postgres transaction: they commit, or roll back, with it. */
export interface TransactionalVectorWriter {
  upsertIn(trx: Kysely<Database>, items: VectorItem[]): Promise<void>;
}

export interface VectorStore {
  /** "postgres" | "weaviate" */
  readonly name: string;
  /**
   * Set when the store lives in the trends' own database: the embedding stage then writes the
   * vector in the transaction that records it, so a crash can never leave one without the other.
   * Stores elsewhere (Weaviate) are written before that transaction, idempotently by id.
   */
  readonly transactional?: TransactionalVectorWriter;
  /**
   * Idempotent; creates the class/collection if missing. Fails with VECTOR_STORE_BAD_INPUT when
   * the collection already holds vectors of another dimension.
   */
  ensureCollection(dimension: number): Promise<void>;
  /** By id: upserting the same id twice leaves one vector. Within one call the last item wins. */
  upsert(items: VectorItem[]): Promise<void>;
  /** Ids that are not stored are ignored. */
  delete(ids: string[]): Promise<void>;
  get(id: string): Promise<VectorItem | undefined>;
  count(): Promise<number>;
  /** Up to k matches, closest first. */
  nearest(vector: number[], k: number, filter?: VectorFilter): Promise<VectorMatch[]>;
  /** Idempotent; any later call fails with VECTOR_STORE_CLOSED. */
  close(): Promise<void>;
}

export type VectorStoreErrorCode =
  /** The server or disk could not be reached; retrying later may succeed. */
  | "VECTOR_STORE_UNAVAILABLE"
  /** The caller's input was wrong (dimension, id, non-finite number, bad date); do not retry. */
  | "VECTOR_STORE_BAD_INPUT"
  /** upsert before ensureCollection: the store does not know the dimension yet. */
  | "VECTOR_STORE_NOT_INITIALIZED"
  | "VECTOR_STORE_CLOSED"
  /** A stored file failed its integrity checks. */
  | "VECTOR_STORE_CORRUPT"
  /** The backend refused the request for a reason that is neither of the above. */
  | "VECTOR_STORE_FAILED";

export class VectorStoreError extends Error {
  override readonly name = "VectorStoreError";
  readonly code: VectorStoreErrorCode;
  readonly retryable: boolean;
  readonly data: Record<string, unknown> | undefined;

  constructor(
    code: VectorStoreErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown; data?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? code === "VECTOR_STORE_UNAVAILABLE";
    this.data = options.data;
  }
}
