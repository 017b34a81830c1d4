import type { Db } from "../../db/database.js";
import type { TrendRow } from "../../db/types.js";
import type { Embedder } from "../../nlp/embedder.js";
import type { Logger } from "../../observability/logger.js";
import type { VectorItem, VectorStore } from "../../vector/vector-store.js";
import type { BatchHandler, Job } from "../../workers/runtime/stream-consumer.js";
import { embeddingText, recordEmbedding } from "./embedding-worker.js";

const UUID = /^[0-9a-f-]{36}$/i;
/** Items per transaction; a read's groups commit concurrently (see below). */
export const COMMIT_GROUP = 8;

/**
 * The embedding stage, batch at a time (a read's entries together): the items are loaded in one
 * query, embedded in one model call, and committed in transactions of COMMIT_GROUP items — each
 * item's charge, transition, EmbeddingRecord, provenance and judge job as the per-item path
 * writes them, and the group's vectors in one upsert. A commit (one WAL flush) per group instead
 * of per item is what a news feed at hundreds of items/s needs; the embedding itself is well
 * under a millisecond.
 * Items are written in id order, so two batches that share a trend lock it in the same order.
 * Back to the per-item handler go: jobs naming no trend or a trend twice, and every job when
 * the vector store is not the Postgres one (its write cannot join the transaction).
 */
export function createEmbeddingBatchHandler(deps: {
  db: Db;
  embedder: Embedder;
  store: VectorStore;
  logger: Logger;
}): BatchHandler {
  let collectionReady = false;
  return async (jobs) => {
    const writer = deps.store.transactional;
    if (!writer) return jobs;
    const alone: Job[] = [];
    const byId = new Map<string, Job>();
    for (const job of jobs) {
      const id = job.envelope.trendId ?? job.envelope.payload.trendId;
      if (typeof id !== "string" || !UUID.test(id) || byId.has(id)) alone.push(job);
      else byId.set(id, job);
    }
    if (byId.size === 0) return alone;
    const ids = [...byId.keys()].sort();
    const trends = await deps.db
      .selectFrom("enriched_trends")
      .selectAll()
      .where("id", "in", ids)
      .execute();
    const found = new Map(trends.map((t) => [t.id, t]));
    const work: { job: Job; trend: TrendRow; text: string }[] = [];
    for (const id of ids) {
      const trend = found.get(id);
      if (!trend) alone.push(byId.get(id)!);
      // Any status but ENRICHED: the step is done already (a redelivery), as the per-item path says.
      else if (trend.status === "ENRICHED")
        work.push({ job: byId.get(id)!, trend, text: embeddingText(trend) });
    }
    if (work.length === 0) return alone;

    const vectors = await deps.embedder.embed(work.map((w) => w.text));
    if (
      vectors.length !== work.length ||
      vectors.some((v) => v.length !== deps.embedder.dimension)
    ) {
      throw new Error(
        `embedder returned vectors of the wrong count or dimension (expected ${deps.embedder.dimension})`,
      );
    }
    if (!collectionReady) {
      await deps.store.ensureCollection(deps.embedder.dimension);
      collectionReady = true;
    }
    const intents = await deps.db
      .selectFrom("planner_intents")
      .select(["trend_id", "intent"])
      .where(
        "trend_id",
        "in",
        work.map((w) => w.trend.id),
      )
      .execute();
    const intentOf = new Map(intents.map((i) => [i.trend_id, i.intent]));
    const logs = work.map(({ trend }) =>
      deps.logger.child({
        trace_id: trend.trace_id,
        enriched_trend_id: trend.id,
        planner_intent: intentOf.get(trend.id),
      }),
    );

    // Commit groups run side by side, each on its own pooled connection: a group's statements
    // are sequential round trips, so one transaction for a whole read left the stage the
    // pipeline's bottleneck at 100 items/s. If a group fails after others committed, the throw
    // sends every job down the per-item path, which skips the items already EMBEDDED.
    const groups: number[][] = [];
    for (let i = 0; i < work.length; i += COMMIT_GROUP)
      groups.push(work.slice(i, i + COMMIT_GROUP).map((_, k) => i + k));
    const commitGroup = (indices: number[]) =>
      deps.db.transaction().execute(async (trx) => {
        const items: VectorItem[] = [];
        for (const i of indices) {
          const w = work[i]!;
          if (!(await recordEmbedding(trx, deps, { ...w, log: logs[i]! }))) continue;
          items.push({
            id: w.trend.id,
            vector: vectors[i]!,
            model: deps.embedder.model,
            metadata: {
              source: w.trend.source,
              status: w.trend.status,
              createdAt: new Date(w.trend.created_at).toISOString(),
            },
          });
        }
        if (items.length > 0) await writer.upsertIn(trx, items);
        return items.map((item) => item.id);
      });
    const committed = new Set((await Promise.all(groups.map(commitGroup))).flat());
    work.forEach((w, i) => {
      if (committed.has(w.trend.id)) {
        logs[i]!.info(
          { worker_output_prompt: `embed ${w.text.length} chars with ${deps.embedder.model}` },
          "item embedded",
        );
      }
    });
    return alone;
  };
}
