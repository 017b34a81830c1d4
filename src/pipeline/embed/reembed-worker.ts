import { Gauge, type Registry } from "prom-client";

import type { Db } from "../../db/database.js";
import { appendProvenance } from "../../db/provenance.js";
import type { Embedder } from "../../nlp/embedder.js";
import type { Logger } from "../../observability/logger.js";
import type { VectorStore } from "../../vector/vector-store.js";
import { PeriodicTask } from "../../workers/periodic-task.js";
import { embeddingText } from "./embedding-worker.js";
import { readReembedProgress, type ReembedProgress } from "./reembed-progress.js";
import { lockStaleRecords, moveRecordToModel } from "./reembed-queries.js";

/** Records moved per transaction: small enough that a USE-lite batch holds its locks ~1 s. */
export const REEMBED_BATCH_SIZE = 32;

/**
 * Re-embeds, in the background, every item whose vector another model made (EMBEDDER changed):
 * each pass locks a batch of such embedding_records (SKIP LOCKED, so several embedding workers
 * share the work), embeds their text with the configured model, writes the vectors to that
 * model's own index (embedder-selection.ts) and moves the records to the model in the same
 * transaction — only while they still name the old model, so a record moves exactly once.
 * Items keep their status; searches use the new index and find each item once it has moved.
 */
export class Reembedder {
  private readonly task: PeriodicTask;
  private collectionReady = false;

  constructor(
    private readonly deps: {
      db: Db;
      embedder: Embedder;
      store: VectorStore;
      logger: Logger;
      intervalMs: number;
      batchSize?: number;
    },
  ) {
    this.task = new PeriodicTask(
      () => this.drain(),
      deps.intervalMs,
      (error) => deps.logger.error({ err: error }, "re-embedding pass failed"),
    );
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Batches until nothing is left to move; returns how many records moved. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const moved = await this.runOnce();
      total += moved;
      if (moved === 0) return total;
    }
  }

  /** One batch in one transaction; returns how many records moved (0: none left unlocked). */
  async runOnce(): Promise<number> {
    const { embedder, store } = this.deps;
    const moved = await this.deps.db.transaction().execute(async (trx) => {
      const records = await lockStaleRecords(
        trx,
        embedder.model,
        this.deps.batchSize ?? REEMBED_BATCH_SIZE,
      );
      if (records.length === 0) return 0;
      const vectors = await embedder.embed(records.map(embeddingText));
      if (
        vectors.length !== records.length ||
        vectors.some((v) => v.length !== embedder.dimension)
      ) {
        throw new Error(
          `embedder ${embedder.model} returned vectors of the wrong count or dimension`,
        );
      }
      if (!this.collectionReady) {
        await store.ensureCollection(embedder.dimension);
        this.collectionReady = true;
      }
      const items = records.map((r, i) => ({
        id: r.trendId,
        vector: vectors[i]!,
        model: embedder.model,
        metadata: {
          source: r.source,
          status: r.status,
          createdAt: new Date(r.created_at).toISOString(),
        },
      }));
      // In Postgres the new vector commits with its moved record, or neither does.
      if (store.transactional) await store.transactional.upsertIn(trx, items);
      else await store.upsert(items);
      let count = 0;
      for (const record of records) {
        const to = { model: embedder.model, dimension: embedder.dimension, store: store.name };
        if (!(await moveRecordToModel(trx, record, to))) continue;
        count++;
        await appendProvenance(trx, {
          traceId: record.trace_id,
          trendId: record.trendId,
          step: "reembed",
          actor: `worker:reembed:${embedder.model}`,
          input: { fromModel: record.model },
          output: {
            vectorId: record.trendId,
            store: store.name,
            model: embedder.model,
            dimension: embedder.dimension,
          },
        });
      }
      return count;
    });
    if (moved > 0) this.deps.logger.info({ moved, model: embedder.model }, "re-embedded items");
    return moved;
  }
}

/**
 * Re-embedding progress on /metrics, read from Postgres at scrape time (so the gateway reports
 * what the embedding workers did): records per model, and how many still wait for `model`.
 */
export function registerReembedMetrics(registry: Registry, db: Db, model: string): void {
  let reading: Promise<ReembedProgress> | undefined;
  // Both gauges of one scrape share one query.
  const progress = () => {
    reading ??= readReembedProgress(db, model).finally(() =>
      setImmediate(() => (reading = undefined)),
    );
    return reading;
  };
  new Gauge({
    name: "trendgate_embedding_records",
    help: "Embedding records by the model that made their vector",
    labelNames: ["model"],
    registers: [registry],
    async collect() {
      const { records } = await progress();
      this.reset();
      for (const row of records) this.set({ model: row.model }, row.records);
    },
  });
  new Gauge({
    name: "trendgate_reembed_pending",
    help: "Embedding records whose vector another model made, waiting to be re-embedded with the configured one",
    labelNames: ["model"],
    registers: [registry],
    async collect() {
      this.set({ model }, (await progress()).pending);
    },
  });
}
