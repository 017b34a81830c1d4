import weaviateModule, { type WeaviateClient, type WhereFilter } from "weaviate-ts-client";

import {
  checkDimension,
  checkFilter,
  checkId,
  checkIds,
  checkItems,
  checkK,
  checkVector,
  isUuid,
} from "./vector-input.js";
import {
  type VectorFilter,
  type VectorItem,
  type VectorMatch,
  type VectorStore,
  VectorStoreError,
} from "./vector-store.js";
import { toVectorStoreError } from "./weaviate-errors.js";
import { cosineFromAdditional, idsWhere, toWeaviateWhere } from "./weaviate-filter.js";

type WeaviateApp = (typeof weaviateModule)["default"];
// TypeScript (NodeNext) reads the package's single .d.ts as CommonJS and puts the app under
// `.default`, while Node loads dist/index.mjs whose default export is the app itself
// (weaviate/typescript-client#43). Take whichever shape is really there.
const weaviate: WeaviateApp =
  "client" in weaviateModule ? (weaviateModule as unknown as WeaviateApp) : weaviateModule.default;

export interface WeaviateVectorStoreOptions {
  /** e.g. http://localhost:8080 */
  url: string;
  apiKey?: string;
  /** Weaviate class; must start with a capital letter. Tests use a unique one per run. */
  className?: string;
  /** Per request; the v2 client has no timeout of its own. */
  timeoutMs?: number;
}

export const DEFAULT_WEAVIATE_CLASS = "TrendVector";
const CLASS_NAME = /^[A-Z][_0-9A-Za-z]*$/;
const BATCH_SIZE = 100;
const DEFAULT_TIMEOUT_MS = 10_000;

/** Weaviate adapter (weaviate-ts-client v2, REST + GraphQL). One object per trend, id = trend id. */
export class WeaviateVectorStore implements VectorStore {
  readonly name = "weaviate";
  readonly className: string;
  readonly #client: WeaviateClient;
  readonly #timeoutMs: number;
  #dimension: number | undefined;
  #classExists = false;
  #closed = false;

  constructor(options: WeaviateVectorStoreOptions) {
    this.className = options.className ?? DEFAULT_WEAVIATE_CLASS;
    if (!CLASS_NAME.test(this.className)) {
      throw new VectorStoreError(
        "VECTOR_STORE_BAD_INPUT",
        `invalid Weaviate class name ${this.className}`,
        {
          data: { className: this.className },
        },
      );
    }
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (cause) {
      throw new VectorStoreError("VECTOR_STORE_BAD_INPUT", `invalid Weaviate URL ${options.url}`, {
        cause,
      });
    }
    this.#client = weaviate.client({
      scheme: url.protocol.replace(/:$/, ""),
      host: url.host,
      ...(options.apiKey ? { apiKey: new weaviate.ApiKey(options.apiKey) } : {}),
    });
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async ensureCollection(dimension: number): Promise<void> {
    this.#open();
    checkDimension(dimension);
    if (!(await this.#exists())) {
      const properties = [
        // "field" tokenization: Equal compares the whole value, not its words.
        { name: "source", dataType: ["text"], tokenization: "field", indexFilterable: true },
        { name: "status", dataType: ["text"], tokenization: "field", indexFilterable: true },
        { name: "createdAt", dataType: ["date"], indexFilterable: true },
      ];
      try {
        await this.#call("create class", () =>
          this.#client.schema
            .classCreator()
            .withClass({
              class: this.className,
              description: "Trendgate trend embeddings; object id = EnrichedTrend id",
              vectorizer: "none",
              vectorIndexConfig: { distance: "cosine" },
              properties,
            })
            .do(),
        );
      } catch (error) {
        // Another process created it between our check and our create.
        if (!(await this.#exists(true))) throw error;
      }
      this.#classExists = true;
    }
    const stored = await this.#storedDimension();
    if (stored !== undefined && stored !== dimension) {
      throw new VectorStoreError(
        "VECTOR_STORE_BAD_INPUT",
        `Weaviate class ${this.className} holds ${stored}-d vectors, not ${dimension}-d`,
        { data: { expected: stored, actual: dimension } },
      );
    }
    this.#dimension = dimension;
  }

  async upsert(items: VectorItem[]): Promise<void> {
    this.#open();
    const dimension = await this.#requireDimension();
    const checked = checkItems(items, dimension);
    for (let i = 0; i < checked.length; i += BATCH_SIZE) {
      let batcher = this.#client.batch.objectsBatcher();
      for (const item of checked.slice(i, i + BATCH_SIZE)) {
        batcher = batcher.withObject({
          class: this.className,
          id: item.id,
          vector: item.vector,
          properties: {
            source: item.source,
            status: item.status,
            createdAt: new Date(item.createdAtMs).toISOString(),
          },
        });
      }
      const results = await this.#call("upsert", () => batcher.do());
      // A batch answers 200 even when objects failed; the failures are per object.
      const failures = results.flatMap((r) =>
        (r.result?.errors?.error ?? []).map((e) => ({
          id: r.id,
          message: e.message ?? "unknown error",
        })),
      );
      if (failures.length > 0) {
        throw new VectorStoreError(
          "VECTOR_STORE_FAILED",
          `Weaviate rejected ${failures.length} object(s): ${failures[0]!.message}`,
          { data: { failures } },
        );
      }
    }
  }

  async delete(ids: string[]): Promise<void> {
    this.#open();
    const checked = checkIds(ids);
    if (checked.length === 0 || !(await this.#exists())) return;
    for (let i = 0; i < checked.length; i += BATCH_SIZE) {
      const chunk = checked.slice(i, i + BATCH_SIZE);
      const response = await this.#call("delete", () =>
        this.#client.batch
          .objectsBatchDeleter()
          .withClassName(this.className)
          .withWhere(idsWhere(chunk))
          .do(),
      );
      const failed = response.results?.failed ?? 0;
      if (failed > 0) {
        throw new VectorStoreError(
          "VECTOR_STORE_FAILED",
          `Weaviate failed to delete ${failed} object(s)`,
          {
            retryable: true,
            data: { failed },
          },
        );
      }
    }
  }

  async get(id: string): Promise<VectorItem | undefined> {
    this.#open();
    if (typeof id !== "string" || !isUuid(id) || !(await this.#exists())) return undefined;
    const rows = await this.#getObjects(
      "source status createdAt _additional { id vector }",
      { path: ["id"], operator: "Equal", valueText: checkId(id) },
      1,
    );
    const row = rows[0];
    if (!row) return undefined;
    const additional = row._additional as { id: string; vector: number[] };
    return {
      id: additional.id,
      vector: additional.vector,
      metadata: {
        source: String(row.source),
        status: String(row.status),
        createdAt: new Date(String(row.createdAt)).toISOString(),
      },
    };
  }

  async count(): Promise<number> {
    this.#open();
    if (!(await this.#exists())) return 0;
    const response = await this.#call("count", () =>
      this.#client.graphql
        .aggregate()
        .withClassName(this.className)
        .withFields("meta { count }")
        .do(),
    );
    const rows = (response.data as { Aggregate?: Record<string, { meta?: { count?: number } }[]> })
      .Aggregate;
    return rows?.[this.className]?.[0]?.meta?.count ?? 0;
  }

  async nearest(vector: number[], k: number, filter?: VectorFilter): Promise<VectorMatch[]> {
    this.#open();
    checkK(k);
    const where = toWeaviateWhere(checkFilter(filter));
    const dimension = this.#dimension ?? (await this.#storedDimension());
    if (dimension !== undefined) checkVector(vector, dimension);
    if (k === 0 || where.matchesNothing || !(await this.#exists())) return [];
    let query = this.#client.graphql
      .get()
      .withClassName(this.className)
      .withFields("_additional { id distance certainty }")
      .withNearVector({ vector })
      .withLimit(k);
    if (where.where) query = query.withWhere(where.where);
    const response = await this.#call("search", () => query.do());
    type Row = { _additional: { id: string; distance?: number; certainty?: number } };
    const rows = (response.data as { Get?: Record<string, Row[]> }).Get;
    return (rows?.[this.className] ?? []).map((row) => ({
      id: row._additional.id,
      score: cosineFromAdditional(row._additional),
    }));
  }

  /** Deletes the class and every object in it (tests, and resetting a deployment). */
  async dropCollection(): Promise<void> {
    this.#open();
    if (!(await this.#exists(true))) return;
    await this.#call("drop class", () =>
      this.#client.schema.classDeleter().withClassName(this.className).do(),
    );
    this.#classExists = false;
    this.#dimension = undefined;
  }

  async close(): Promise<void> {
    // The v2 client holds no sockets or timers of its own (no OIDC refresh with an API key).
    this.#closed = true;
  }

  #open(): void {
    if (this.#closed)
      throw new VectorStoreError("VECTOR_STORE_CLOSED", "the vector store is closed");
  }

  async #exists(recheck = false): Promise<boolean> {
    if (this.#classExists && !recheck) return true;
    this.#classExists =
      (await this.#call("read the schema", () => this.#client.schema.exists(this.className))) ===
      true;
    return this.#classExists;
  }

  async #requireDimension(): Promise<number> {
    this.#dimension ??= (await this.#exists()) ? await this.#storedDimension() : undefined;
    if (this.#dimension === undefined) {
      throw new VectorStoreError(
        "VECTOR_STORE_NOT_INITIALIZED",
        `Weaviate class ${this.className} has no vectors yet: call ensureCollection(dimension) first`,
      );
    }
    return this.#dimension;
  }

  /** The dimension of any stored object, since Weaviate's schema does not record it. */
  async #storedDimension(): Promise<number | undefined> {
    if (!(await this.#exists())) return undefined;
    const rows = await this.#getObjects("_additional { vector }", undefined, 1);
    const vector = (rows[0]?._additional as { vector?: number[] } | undefined)?.vector;
    return vector?.length;
  }

  async #getObjects(
    fields: string,
    where: WhereFilter | undefined,
    limit: number,
  ): Promise<Record<string, unknown>[]> {
    let query = this.#client.graphql
      .get()
      .withClassName(this.className)
      .withFields(fields)
      .withLimit(limit);
    if (where) query = query.withWhere(where);
    const response = await this.#call("read objects", () => query.do());
    const rows = (response.data as { Get?: Record<string, Record<string, unknown>[]> }).Get;
    return rows?.[this.className] ?? [];
  }

  async #call<T>(action: string, request: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new VectorStoreError(
              "VECTOR_STORE_UNAVAILABLE",
              `Weaviate did not answer ${action} in ${this.#timeoutMs} ms`,
            ),
          ),
        this.#timeoutMs,
      );
    });
    try {
      return await Promise.race([request(), timeout]);
    } catch (error) {
      throw toVectorStoreError(error, action);
    } finally {
      clearTimeout(timer);
    }
  }
}
