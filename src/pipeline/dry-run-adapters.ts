import type { Db } from "../db/database.js";
import type { Publisher, PublishRequest, PublishResult } from "../mcp/publish-client.js";
import type { VectorFilter, VectorItem, VectorMatch, VectorStore } from "../vector/vector-store.js";
import type { StageDeps } from "./stage.js";

/** A call a stage made to an adapter outside Postgres, recorded instead of executed. */
export interface RecordedCall {
  adapter: "publish tool" | "vector store";
  call: string;
  detail: Record<string, unknown>;
}

/**
 * The stage dependencies of a dry run: the database given (one whose writes are rolled back,
 * see withRolledBackDatabase) and adapters whose writes outside Postgres are recorded, not made.
 * Models and the Judge policy are the real ones: they compute, they do not write.
 */
export function dryRunDeps(deps: StageDeps, db: Db, calls: RecordedCall[]): StageDeps {
  const publisher: Publisher = new RecordingPublisher(calls);
  return {
    ...deps,
    db,
    store: new RecordingVectorStore(deps.store, calls),
    publisher: async () => publisher,
  };
}

/** Answers every publish as the adapter would the first time, without calling the tool. */
class RecordingPublisher implements Publisher {
  readonly adapter = "dry-run";

  constructor(private readonly calls: RecordedCall[]) {}

  async publish(req: PublishRequest): Promise<PublishResult> {
    const args: Record<string, unknown> = { ...req };
    this.calls.push({
      adapter: "publish tool",
      call: "publish",
      detail: { approvalPath: req.approvalPath, idempotencyKey: req.idempotencyKey },
    });
    return {
      externalRef: `dry-run:${req.trendId}`,
      duplicate: false,
      tool: "publish",
      adapter: this.adapter,
      arguments: args,
      raw: null,
    };
  }

  async close(): Promise<void> {}
}

/**
 * Reads go to the real store; writes are recorded. A store that writes inside the stage's
 * Postgres transaction (`transactional`) does write there: that transaction is rolled back.
 */
class RecordingVectorStore implements VectorStore {
  readonly name: string;
  readonly transactional: VectorStore["transactional"];

  constructor(
    private readonly inner: VectorStore,
    private readonly calls: RecordedCall[],
  ) {
    this.name = inner.name;
    const writer = inner.transactional;
    this.transactional = writer && {
      upsertIn: (trx, items) => {
        this.record("upsert", items);
        return writer.upsertIn(trx, items);
      },
    };
  }

  /** Idempotent setup the store needs before a write; it adds no item. */
  ensureCollection(dimension: number): Promise<void> {
    return this.inner.ensureCollection(dimension);
  }

  async upsert(items: VectorItem[]): Promise<void> {
    this.record("upsert", items);
  }

  async delete(ids: string[]): Promise<void> {
    this.calls.push({ adapter: "vector store", call: "delete", detail: { ids } });
  }

  get(id: string): Promise<VectorItem | undefined> {
    return this.inner.get(id);
  }

  count(): Promise<number> {
    return this.inner.count();
  }

  nearest(vector: number[], k: number, filter?: VectorFilter): Promise<VectorMatch[]> {
    return this.inner.nearest(vector, k, filter);
  }

  /** The inner store belongs to the caller. */
  async close(): Promise<void> {}

  private record(call: string, items: VectorItem[]): void {
    this.calls.push({
      adapter: "vector store",
      call,
      detail: {
        ids: items.map((i) => i.id),
        dimensions: items[0]?.vector.length ?? 0,
        store: this.name,
      },
    });
  }
}
