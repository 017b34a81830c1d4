import type { Kysely } from "kysely";

import type { Db } from "../db/database.js";
import type { Database } from "../db/types.js";
import { DEFAULT_HNSW, HnswIndex, type HnswParameters } from "./hnsw-index.js";
import { readSnapshot, removeSnapshot, writeSnapshot } from "./index-snapshot.js";
import {
  badInput,
  checkDimension,
  checkFilter,
  checkId,
  checkIds,
  checkItems,
  checkK,
  checkVector,
} from "./vector-input.js";
import {
  type ChangedRow,
  countVectors,
  currentXmin,
  decodeVector,
  type IndexScope,
  latestDimension,
  otherDimension,
  readChanges,
  readPage,
  readVector,
  storeIdentity,
  tombstoneVectors,
  writeVectors,
} from "./vector-queries.js";
import type {
  TransactionalVectorWriter,
  VectorFilter,
  VectorItem,
  VectorMatch,
  VectorStore,
} from "./vector-store.js";
import { VectorStoreError } from "./vector-store.js";

export interface PostgresVectorStoreOptions {
  db: Db;
  /** VECTOR_STORE_PATH: where the HNSW index is persisted; unset keeps it in memory only. */
  path?: string;
  /** The embedding model: written with each vector, and the only model the index holds. */
  model?: string;
  hnsw?: Partial<HnswParameters>;
  /** How often a changed index is written to `path` (and always on close). */
  persistEveryMs?: number;
}

const REBUILD_PAGE = 5000;

/**
 * Vectors in Postgres (`trend_vectors`), searched through an HNSW index held by this process.
 *
 * Postgres is the truth: a vector is written in the embedding record's own transaction
 * (`transactional.upsertIn`), so a crash leaves both or neither. The index is a cache of it:
 * loaded from disk when the persisted copy belongs to this database (trend_vector_store.id),
 * rebuilt from Postgres otherwise, and caught up before every search with the rows written since
 * its last read, so a search sees every vector committed before it started, from any process.
 */
export class PostgresVectorStore implements VectorStore {
  readonly name = "postgres";
  readonly transactional: TransactionalVectorWriter;
  private readonly db: Db;
  private readonly model: string;
  private readonly parameters: HnswParameters;
  private dimension: number | undefined;
  private index: HnswIndex | undefined;
  private xmin = "0";
  private storeId: string | undefined;
  /** The snapshot directory this process wrote last (it removes only its own). */
  private persisted: string | undefined;
  private changedSincePersist = false;
  private persisting = false;
  /** Catch-ups, rebuilds and snapshot writes run one at a time: hnswlib's graph is not shared-writer safe. */
  private exclusive: Promise<unknown> = Promise.resolve();
  private queued: Promise<HnswIndex> | undefined;
  private persistTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private loadedFrom: "snapshot" | "postgres" | undefined;

  constructor(private readonly options: PostgresVectorStoreOptions) {
    this.db = options.db;
    this.model = options.model ?? "";
    this.parameters = { ...DEFAULT_HNSW, ...options.hnsw };
    this.transactional = { upsertIn: (trx, items) => this.write(trx, items) };
    if (options.path) {
      this.persistTimer = setInterval(
        () => void this.persist().catch(() => undefined),
        options.persistEveryMs ?? 60_000,
      );
      this.persistTimer.unref();
    }
  }

  async ensureCollection(dimension: number): Promise<void> {
    this.assertOpen();
    checkDimension(dimension);
    const other = await this.guard(() => otherDimension(this.db, dimension, this.model));
    if (other !== undefined) {
      throw badInput(`the store holds ${other}-d vectors, not ${dimension}-d`, {
        expected: other,
        actual: dimension,
      });
    }
    this.dimension = dimension;
  }

  upsert(items: VectorItem[]): Promise<void> {
    return this.write(this.db, items);
  }

  async delete(ids: string[]): Promise<void> {
    this.assertOpen();
    const checked = checkIds(ids);
    await this.guard(() => tombstoneVectors(this.db, checked));
  }

  async get(id: string): Promise<VectorItem | undefined> {
    this.assertOpen();
    const row = await this.guard(() => readVector(this.db, checkId(id)));
    if (!row) return undefined;
    return {
      id: row.trend_id,
      vector: Array.from(decodeVector(row.vector)),
      metadata: { source: row.source, status: row.status, createdAt: row.created_at.toISOString() },
    };
  }

  async count(): Promise<number> {
    this.assertOpen();
    return this.guard(() => countVectors(this.db));
  }

  async nearest(vector: number[], k: number, filter?: VectorFilter): Promise<VectorMatch[]> {
    this.assertOpen();
    checkK(k);
    const checked = checkFilter(filter);
    const dimension = this.dimension ?? (Array.isArray(vector) ? vector.length : 0);
    checkVector(vector, dimension);
    const index = await this.caughtUp(dimension);
    return index.nearest(vector, k, checked);
  }

  /**
   * Loads (or builds) the index and catches it up now, so the first search does not pay for it:
   * the gateway calls this at start. The dimension is the newest stored vector's; with no vector
   * stored yet there is nothing to load.
   */
  async warmUp(): Promise<void> {
    const dimension =
      this.dimension ?? (await this.guard(() => latestDimension(this.db, this.model)));
    if (dimension !== undefined) await this.caughtUp(dimension);
  }

  /** Where the index came from when this process loaded it: its persisted copy, or a rebuild. */
  get indexSource(): "snapshot" | "postgres" | undefined {
    return this.loadedFrom;
  }

  /** Vectors in this process's index (after its last catch-up). */
  get indexedCount(): number {
    return this.index?.size ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.persistTimer);
    await this.persist().catch(() => undefined);
    this.closed = true;
  }

  /** Writes the index to `path` if it changed since the last write. */
  async persist(): Promise<void> {
    if (!this.options.path || this.closed) return;
    const root = this.options.path;
    await this.runExclusive(async () => {
      if (!this.index || !this.changedSincePersist || !this.storeId) return;
      this.changedSincePersist = false;
      const previous = this.persisted;
      this.persisting = true;
      try {
        this.persisted = await writeSnapshot(root, this.index, {
          storeId: this.storeId,
          model: this.model,
          xmin: this.xmin,
        });
      } finally {
        this.persisting = false;
      }
      if (previous) await removeSnapshot(previous);
    });
  }

  private async write(db: Kysely<Database>, items: VectorItem[]): Promise<void> {
    this.assertOpen();
    if (this.dimension === undefined) {
      throw new VectorStoreError(
        "VECTOR_STORE_NOT_INITIALIZED",
        "ensureCollection must run before the first upsert",
      );
    }
    const checked = checkItems(items, this.dimension);
    await this.guard(() => writeVectors(db, checked, this.model || "unknown", this.dimension!));
  }

  /** The index for `dimension`, with every row committed before this call applied. */
  private caughtUp(dimension: number): Promise<HnswIndex> {
    // hnswlib writes the graph from a background thread, and searching it meanwhile is safe; only
    // writes to it must wait. So searches keep answering from the index as it is (at most one
    // snapshot write behind) instead of queueing behind a write that takes seconds at 1M vectors.
    if (this.persisting && this.index?.dimension === dimension) return Promise.resolve(this.index);
    // A catch-up already queued starts after this call, so it serves this caller too.
    if (this.queued) return this.queued;
    const queued = this.runExclusive(async () => {
      this.queued = undefined;
      return this.guard(() => this.catchUp(dimension));
    });
    this.queued = queued;
    return queued;
  }

  private async catchUp(dimension: number): Promise<HnswIndex> {
    const scope: IndexScope = { dimension, model: this.model };
    this.storeId ??= await storeIdentity(this.db);
    if (!this.index || this.index.dimension !== dimension) await this.load(scope);
    const xmin = await currentXmin(this.db);
    const changes = await readChanges(this.db, this.xmin, scope);
    this.apply(changes);
    this.xmin = xmin;
    return this.index!;
  }

  /** The persisted index when it belongs to this database and scope, else a rebuild from Postgres. */
  private async load(scope: IndexScope): Promise<void> {
    const snapshot = this.options.path ? await readSnapshot(this.options.path) : undefined;
    const meta = snapshot?.meta;
    // A snapshot from the future (a database restored from a dump into a younger cluster keeps
    // its identity row but not its transaction ids) would skip rows: rebuild instead.
    const sameHistory =
      meta !== undefined && BigInt(meta.xmin) <= BigInt(await currentXmin(this.db));
    if (
      snapshot &&
      meta &&
      sameHistory &&
      meta.storeId === this.storeId &&
      meta.dimension === scope.dimension &&
      meta.model === this.model
    ) {
      this.index = snapshot.index;
      this.xmin = meta.xmin;
      this.loadedFrom = "snapshot";
      return;
    }
    const index = HnswIndex.create(scope.dimension, this.parameters);
    const xmin = await currentXmin(this.db);
    for (let after: string | undefined; ;) {
      const page = await readPage(this.db, scope, after, REBUILD_PAGE);
      this.apply(page, index);
      if (page.length < REBUILD_PAGE) break;
      after = page[page.length - 1]!.trend_id;
    }
    this.index = index;
    this.xmin = xmin;
    this.loadedFrom = "postgres";
    this.changedSincePersist = true;
  }

  private apply(rows: readonly ChangedRow[], index: HnswIndex = this.index!): void {
    for (const row of rows) {
      if (row.vector === null) index.delete(row.trend_id);
      else
        index.upsert(row.trend_id, decodeVector(row.vector), {
          source: row.source,
          status: row.status,
          createdAtMs: row.created_at.getTime(),
        });
    }
    if (rows.length > 0) this.changedSincePersist = true;
  }

  private runExclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(task, task);
    this.exclusive = run.catch(() => undefined);
    return run;
  }

  /** Postgres failures become VECTOR_STORE_UNAVAILABLE (retryable); the store's own errors pass. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof VectorStoreError) throw error;
      throw new VectorStoreError(
        "VECTOR_STORE_UNAVAILABLE",
        `Postgres vector store: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  private assertOpen(): void {
    if (this.closed)
      throw new VectorStoreError("VECTOR_STORE_CLOSED", "the vector store is closed");
  }
}
