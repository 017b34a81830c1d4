import { HybridClock } from "./hybrid-clock.js";
import {
  decodeSegment,
  encodeSegment,
  SEGMENT_HEAD_BYTES,
  type SegmentRecord,
  segmentMergedFrom,
} from "./segment-codec.js";
import {
  type CompactionOptions,
  compactSegments,
  DEFAULT_COMPACTION,
} from "./segment-compactor.js";
import { COMPACTED_PREFIX, SegmentDirectory, WRITTEN_PREFIX } from "./segment-directory.js";
import { VectorIndex } from "./vector-index.js";
import {
  badInput,
  checkDimension,
  checkFilter,
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

export interface EmbeddedVectorStoreOptions {
  /** Directory holding the store; created on first write. */
  path: string;
  compaction?: Partial<CompactionOptions>;
  /** Told about failed background compactions (the store keeps working without them). */
  onBackgroundError?: (error: unknown) => void;
}

/** A reader retries a listing this often when files vanish under it (compaction in progress). */
const MAX_REFRESH_ROUNDS = 5;

/**
 * The default vector store: segment files on local disk (segment-directory.ts) plus an exact
 * in-memory index (vector-index.ts). Several processes may open the same path: every operation
 * first applies the segment files it has not seen yet (one readdir when nothing changed), so a
 * reader sees another process's completed writes on its next call, and writers never block or
 * overwrite each other. Why this rather than LanceDB: src/vector/README.md.
 */
export class EmbeddedVectorStore implements VectorStore {
  readonly name = "embedded";
  readonly #directory: SegmentDirectory;
  readonly #clock = new HybridClock();
  readonly #compaction: CompactionOptions;
  readonly #onBackgroundError: (error: unknown) => void;
  #index: VectorIndex | undefined;
  /** Segment files already applied to #index. */
  readonly #applied = new Set<string>();
  /** Operations run one at a time per instance: refresh mutates the index that search reads. */
  #queue: Promise<unknown> = Promise.resolve();
  #compacting: Promise<void> | undefined;
  #closed = false;

  constructor(options: EmbeddedVectorStoreOptions) {
    this.#directory = new SegmentDirectory(options.path);
    this.#compaction = { ...DEFAULT_COMPACTION, ...options.compaction };
    this.#onBackgroundError = options.onBackgroundError ?? (() => undefined);
  }

  ensureCollection(dimension: number): Promise<void> {
    return this.#run(async () => {
      checkDimension(dimension);
      const meta = await this.#directory.createMeta(dimension);
      if (meta.dimension !== dimension) {
        throw badInput(
          `the store at ${this.#directory.path} holds ${meta.dimension}-d vectors, not ${dimension}-d`,
          {
            expected: meta.dimension,
            actual: dimension,
          },
        );
      }
      await this.#refresh();
    });
  }

  upsert(items: VectorItem[]): Promise<void> {
    return this.#run(async () => {
      const index = await this.#requireIndex();
      const checked = checkItems(items, index.dimension);
      if (checked.length === 0) return;
      const records: SegmentRecord[] = checked.map((item) => ({
        kind: "upsert",
        id: item.id,
        stamp: this.#clock.next(),
        source: item.source,
        status: item.status,
        createdAtMs: item.createdAtMs,
        vector: item.vector,
      }));
      await this.#write(index, records);
    });
  }

  delete(ids: string[]): Promise<void> {
    return this.#run(async () => {
      const checked = checkIds(ids);
      if (checked.length === 0) return;
      const index = await this.#requireIndex();
      await this.#write(
        index,
        checked.map((id) => ({ kind: "delete", id, stamp: this.#clock.next() })),
      );
    });
  }

  get(id: string): Promise<VectorItem | undefined> {
    return this.#run(async () => {
      if (typeof id !== "string" || !isUuid(id)) return undefined;
      return (await this.#refresh())?.get(id.toLowerCase());
    });
  }

  count(): Promise<number> {
    return this.#run(async () => (await this.#refresh())?.size ?? 0);
  }

  nearest(vector: number[], k: number, filter?: VectorFilter): Promise<VectorMatch[]> {
    return this.#run(async () => {
      checkK(k);
      const checkedFilter = checkFilter(filter);
      const index = await this.#refresh();
      // A store nobody has written to yet has no dimension to check against, and no matches.
      if (!index) return [];
      checkVector(vector, index.dimension);
      return index.nearest(vector, k, checkedFilter);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.catch(() => undefined);
    await this.#compacting;
    this.#index = undefined;
    this.#applied.clear();
  }

  #run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(
        new VectorStoreError("VECTOR_STORE_CLOSED", "the vector store is closed"),
      );
    }
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #requireIndex(): Promise<VectorIndex> {
    const index = await this.#refresh();
    if (!index) {
      throw new VectorStoreError(
        "VECTOR_STORE_NOT_INITIALIZED",
        `no vector store at ${this.#directory.path} yet: call ensureCollection(dimension) first`,
      );
    }
    return index;
  }

  async #write(index: VectorIndex, records: SegmentRecord[]): Promise<void> {
    const name = await this.#directory.write(
      encodeSegment(records, index.dimension),
      `${WRITTEN_PREFIX}${records[0]!.stamp.time.toString(36)}`,
    );
    this.#applied.add(name);
    for (const record of records) {
      if (record.kind === "upsert") index.applyUpsert(record);
      else index.applyDelete(record);
    }
    this.#maybeCompact(index.dimension);
  }

  /** Brings the index up to date with the directory; undefined while the store does not exist. */
  async #refresh(): Promise<VectorIndex | undefined> {
    if (!this.#index) {
      const meta = await this.#directory.readMeta();
      if (!meta) return undefined;
      this.#index = new VectorIndex(meta.dimension);
    }
    const index = this.#index;
    for (let round = 0; round < MAX_REFRESH_ROUNDS; round++) {
      const names = await this.#directory.list();
      let vanished = false;
      for (const name of names) {
        if (this.#applied.has(name)) continue;
        if (name.startsWith(COMPACTED_PREFIX) && (await this.#coversOnlyApplied(name))) {
          // Everything in it is already in the index: skip decoding (up to maxMergeBytes) entirely.
          this.#applied.add(name);
          continue;
        }
        const content = await this.#directory.read(name);
        if (!content) {
          // Compacted away between readdir and read: its records are in a file the next listing shows.
          vanished = true;
          continue;
        }
        decodeSegment(content, name, index.dimension, {
          upsert: (record) => index.applyUpsert(record),
          delete: (record) => index.applyDelete(record),
        });
        this.#applied.add(name);
      }
      // Forget files only after the loop: #coversOnlyApplied needs the names of merged inputs.
      const present = new Set(names);
      for (const name of this.#applied) if (!present.has(name)) this.#applied.delete(name);
      this.#clock.observe(index.maxTime);
      if (!vanished) return index;
    }
    throw new VectorStoreError(
      "VECTOR_STORE_UNAVAILABLE",
      "segment files kept changing while being read",
      {
        retryable: true,
      },
    );
  }

  async #coversOnlyApplied(name: string): Promise<boolean> {
    const head = await this.#directory.readHead(name, SEGMENT_HEAD_BYTES);
    const inputs = head && segmentMergedFrom(head, name);
    return inputs !== undefined && inputs.every((input) => this.#applied.has(input));
  }

  #maybeCompact(dimension: number): void {
    if (this.#compacting || this.#applied.size <= this.#compaction.maxSegments) return;
    this.#compacting = compactSegments(this.#directory, dimension, this.#compaction)
      .then(() => undefined, this.#onBackgroundError)
      .finally(() => {
        this.#compacting = undefined;
      });
  }
}
