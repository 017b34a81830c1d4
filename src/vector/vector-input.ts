import { type VectorFilter, type VectorItem, VectorStoreError } from "./vector-store.js";

/**
 * Input checks both stores share, so code written against the Postgres store does not start
 * failing when it meets Weaviate (which only takes UUID ids and rejects mixed dimensions).
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Longer labels than this are a caller bug (a source or status name, not a text). */
export const MAX_LABEL_LENGTH = 1000;
/** Weaviate's default QUERY_MAXIMUM_RESULTS; the Postgres store keeps the same ceiling. */
export const MAX_K = 10_000;
export const MAX_DIMENSION = 65_536;

export function isUuid(id: string): boolean {
  return UUID.test(id);
}

export function badInput(message: string, data?: Record<string, unknown>): VectorStoreError {
  return new VectorStoreError("VECTOR_STORE_BAD_INPUT", message, { data });
}

export function checkDimension(dimension: number): number {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > MAX_DIMENSION) {
    throw badInput(`dimension must be an integer in 1..${MAX_DIMENSION}`, { dimension });
  }
  return dimension;
}

export function checkId(id: unknown): string {
  if (typeof id !== "string" || !isUuid(id)) {
    throw badInput("id must be a UUID (the EnrichedTrend id)", { id });
  }
  return id.toLowerCase();
}

function checkLabel(value: unknown, field: string, id: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_LABEL_LENGTH) {
    throw badInput(
      `metadata.${field} must be a non-empty string of at most ${MAX_LABEL_LENGTH} characters`,
      {
        id,
        field,
      },
    );
  }
  return value;
}

/** Parses an ISO instant; returns epoch milliseconds. */
export function checkInstant(value: unknown, field: string): number {
  const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms))
    throw badInput(`${field} must be an ISO 8601 date-time`, { field, value });
  return ms;
}

/** Returns the squared norm, after checking length and that every component is finite. */
export function checkVector(vector: unknown, dimension: number, id?: string): number {
  if (!Array.isArray(vector) || vector.length !== dimension) {
    throw badInput(`vector must have ${dimension} components`, {
      id,
      expected: dimension,
      actual: Array.isArray(vector) ? vector.length : typeof vector,
    });
  }
  let squared = 0;
  for (const x of vector as unknown[]) {
    if (typeof x !== "number" || !Number.isFinite(x))
      throw badInput("vector components must be finite numbers", { id });
    squared += x * x;
  }
  // Cosine similarity is undefined for the zero vector.
  if (squared === 0) throw badInput("vector must not be all zeros", { id });
  return squared;
}

export interface CheckedItem {
  id: string;
  vector: number[];
  source: string;
  status: string;
  createdAtMs: number;
  model: string | undefined;
}

/** Validates a batch and keeps the last occurrence of each id, as one upsert call promises. */
export function checkItems(items: readonly VectorItem[], dimension: number): CheckedItem[] {
  if (!Array.isArray(items)) throw badInput("items must be an array");
  const byId = new Map<string, CheckedItem>();
  for (const item of items) {
    const id = checkId(item?.id);
    checkVector(item.vector, dimension, id);
    const metadata: Partial<VectorItem["metadata"]> = item.metadata ?? {};
    byId.delete(id);
    byId.set(id, {
      id,
      vector: item.vector,
      source: checkLabel(metadata.source, "source", id),
      status: checkLabel(metadata.status, "status", id),
      createdAtMs: checkInstant(metadata.createdAt, "metadata.createdAt"),
      model: typeof item.model === "string" && item.model !== "" ? item.model : undefined,
    });
  }
  return [...byId.values()];
}

export function checkIds(ids: readonly string[]): string[] {
  if (!Array.isArray(ids)) throw badInput("ids must be an array");
  return [...new Set(ids.map(checkId))];
}

export function checkK(k: number): number {
  if (!Number.isInteger(k) || k < 0 || k > MAX_K)
    throw badInput(`k must be an integer in 0..${MAX_K}`, { k });
  return k;
}

export interface CheckedFilter {
  source: string | undefined;
  status: string[] | undefined;
  createdAfterMs: number | undefined;
  createdBeforeMs: number | undefined;
  /** Lower-cased; ids that are not UUIDs are dropped because nothing can be stored under them. */
  excludeIds: string[];
}

export function checkFilter(filter: VectorFilter | undefined): CheckedFilter {
  const f = filter ?? {};
  if (f.status !== undefined && !Array.isArray(f.status))
    throw badInput("filter.status must be an array");
  return {
    source: f.source,
    status: f.status,
    createdAfterMs:
      f.createdAfter === undefined
        ? undefined
        : checkInstant(f.createdAfter, "filter.createdAfter"),
    createdBeforeMs:
      f.createdBefore === undefined
        ? undefined
        : checkInstant(f.createdBefore, "filter.createdBefore"),
    excludeIds: (f.excludeIds ?? [])
      .filter((id) => typeof id === "string" && isUuid(id))
      .map((id) => id.toLowerCase()),
  };
}
