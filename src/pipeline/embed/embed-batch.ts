import type { Span } from "@opentelemetry/api";
import { SpanKind } from "@opentelemetry/api";

import type { Db } from "../../db/database.js";
import type { TrendRow } from "../../db/types.js";
import { estimateStepCost } from "../../domain/budget.js";
import type { Embedder } from "../../nlp/embedder.js";
import type { Logger } from "../../observability/logger.js";
import { endSpan, startItemSpan, traceparentOf } from "../../observability/tracing.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { VectorItem, VectorStore } from "../../vector/vector-store.js";
import type { BatchHandler, Job } from "../../workers/runtime/stream-consumer.js";
import { loadBatchTrends } from "../batch-trends.js";
import { trendUpdatedEnvelope } from "../trend-lifecycle.js";
import { commitEmbeddedBatch, type EmbeddedWrite } from "./embed-queries.js";
import { embeddingText } from "./embedding-worker.js";

/**
 * The embedding stage, batch at a time, when the vector store lives in Postgres (the default):
 * one read's trends loaded in one query, embedded in one model call, then written in ONE
 * transaction (the statement of commitEmbeddedBatch and the vectors of the items it moved), so
 * vectors and records commit together as in the per-item path. What it does not cover goes back
 * to the per-item handler: unknown trends, a second job for one trend, items changed since read
 * or over budget; with a store elsewhere (Weaviate) every job does.
 */
export function createEmbedBatchHandler(deps: {
  db: Db;
  embedder: Embedder;
  store: VectorStore;
  logger: Logger;
}): BatchHandler {
  let collectionReady = false;
  return async (jobs) => {
    const writer = deps.store.transactional;
    if (!writer) return jobs;
    const { alone, loaded } = await loadBatchTrends(deps.db, jobs);
    if (loaded.length === 0) return alone;
    const pending: { job: Job; trend: TrendRow; span: Span }[] = [];
    for (const { id, job, trend } of loaded) {
      if (trend.status === "ENRICHED") {
        const span = startItemSpan(
          "embed",
          job.envelope,
          {
            "trendgate.stage": "embedding",
            "trendgate.trend_id": id,
            "messaging.message.id": job.entryId,
            "trendgate.attempt": job.attempt,
            "trendgate.batch": jobs.length,
          },
          SpanKind.CONSUMER,
        );
        pending.push({ job, trend, span });
      }
      // Any other status: embedded already (a redelivery); nothing to write.
    }
    if (pending.length === 0) return alone;
    const { embedder } = deps;
    const texts = pending.map((p) => embeddingText(p.trend));
    let moved: Set<string>;
    try {
      const vectors = await embedder.embed(texts);
      if (vectors.length !== texts.length || vectors.some((v) => v.length !== embedder.dimension)) {
        throw new Error(
          `embedder returned ${vectors.length} vectors for ${texts.length} texts, or not of ${embedder.dimension} dimensions`,
        );
      }
      if (!collectionReady) {
        await deps.store.ensureCollection(embedder.dimension);
        collectionReady = true;
      }
      moved = await deps.db.transaction().execute(async (trx) => {
        const writes = pending.map((p, i) => toWrite(p, texts[i]!, embedder, deps.store.name));
        const result = await commitEmbeddedBatch(trx, writes, {
          name: deps.store.name,
          model: embedder.model,
          dimension: embedder.dimension,
        });
        if (result.charged !== result.moved.size)
          throw new Error("a step of this batch was charged already");
        const items: VectorItem[] = pending.flatMap((p, i) =>
          result.moved.has(p.trend.id)
            ? [
                {
                  id: p.trend.id,
                  vector: vectors[i]!,
                  model: embedder.model,
                  metadata: {
                    source: p.trend.source,
                    status: p.trend.status,
                    createdAt: new Date(p.trend.created_at).toISOString(),
                  },
                },
              ]
            : [],
        );
        await writer.upsertIn(trx, items);
        return result.moved;
      });
    } catch (error) {
      for (const p of pending) endSpan(p.span, error);
      throw error;
    }
    for (const p of pending) {
      if (!moved.has(p.trend.id)) alone.push(p.job);
      endSpan(p.span);
    }
    if (moved.size) deps.logger.debug({ items: moved.size, alone: alone.length }, "batch embedded");
    return alone;
  };
}

/** What one item's embedding commit writes, as the per-item handler writes it. */
function toWrite(
  p: { job: Job; trend: TrendRow; span: Span },
  text: string,
  embedder: Embedder,
  storeName: string,
): EmbeddedWrite {
  const { trend, job } = p;
  const traceparent = traceparentOf(p.span);
  return {
    trendId: trend.id,
    traceId: trend.trace_id,
    readSpent: trend.budget_spent,
    // Priced on the text the plan priced (title + body), as the per-item handler does.
    cost: estimateStepCost("embed", `${trend.title ?? ""} ${trend.body}`),
    attempt: job.attempt,
    provenance: {
      actor: `worker:embedding:${embedder.model}`,
      input: { chars: text.length, attempt: job.attempt },
      output: {
        vectorId: trend.id,
        store: storeName,
        model: embedder.model,
        dimension: embedder.dimension,
      },
    },
    events: [
      {
        stream: STREAMS.trendUpdates,
        envelope: trendUpdatedEnvelope(
          {
            id: trend.id,
            trace_id: trend.trace_id,
            status: "EMBEDDED",
            embedding_status: "SUCCEEDED",
          },
          "ENRICHED",
          { actor: "worker:embedding", reason: "embedded", traceparent },
        ),
      },
      {
        stream: STREAMS.judgeJobs,
        envelope: makeEnvelope("trend.embedded", {
          traceId: trend.trace_id,
          trendId: trend.id,
          traceparent,
          payload: { trendId: trend.id },
        }),
      },
    ],
  };
}
