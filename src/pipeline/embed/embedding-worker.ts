import { randomUUID } from "node:crypto";

import type { Db } from "../../db/database.js";
import { enqueueOutbox } from "../../db/outbox.js";
import { appendProvenance } from "../../db/provenance.js";
import { estimateStepCost } from "../../domain/budget.js";
import type { Embedder } from "../../nlp/embedder.js";
import type { Logger } from "../../observability/logger.js";
import { makeEnvelope } from "../../streams/envelope.js";
import { STREAMS } from "../../streams/stream-names.js";
import type { VectorItem, VectorStore } from "../../vector/vector-store.js";
import type { Job, JobHandler } from "../../workers/runtime/stream-consumer.js";
import { jobLogger, loadJobTrend } from "../../workers/stage-support.js";
import { chargeOrPause } from "../budget-service.js";
import { transitionTrend } from "../trend-lifecycle.js";

/** The text that is embedded: what a reader would search by. */
export function embeddingText(trend: {
  title: string | null;
  normalized_body: string | null;
  body: string;
}): string {
  return [trend.title, trend.normalized_body ?? trend.body].filter(Boolean).join("\n");
}

/**
 * The embedding stage (`trend:embedding:jobs`, group embedding): the vector, the EmbeddingRecord,
 * embedding_status = SUCCEEDED and the judge job in one transaction when the store lives in
 * Postgres (the default), so a crash leaves all of them or none. A store elsewhere (Weaviate)
 * is written first, by id, so a crash between it and the commit leaves one vector after
 * redelivery. Failures throw, so the runtime retries with backoff and dead-letters after N attempts.
 */
export function createEmbeddingHandler(deps: {
  db: Db;
  embedder: Embedder;
  store: VectorStore;
  logger: Logger;
}): JobHandler {
  let collectionReady = false;
  return async (job: Job) => {
    const trend = await loadJobTrend(deps.db, job);
    if (trend.status !== "ENRICHED") return;
    const log = await jobLogger(deps.db, deps.logger, trend);
    const text = embeddingText(trend);
    const [vector] = await deps.embedder.embed([text]);
    if (!vector || vector.length !== deps.embedder.dimension) {
      throw new Error(
        `embedder returned ${vector?.length ?? 0} dimensions, expected ${deps.embedder.dimension}`,
      );
    }
    if (!collectionReady) {
      await deps.store.ensureCollection(deps.embedder.dimension);
      collectionReady = true;
    }
    const item: VectorItem = {
      id: trend.id,
      vector,
      model: deps.embedder.model,
      metadata: {
        source: trend.source,
        status: trend.status,
        createdAt: new Date(trend.created_at).toISOString(),
      },
    };
    const inTransaction = deps.store.transactional;
    if (!inTransaction) await deps.store.upsert([item]);
    const committed = await deps.db.transaction().execute(async (trx) => {
      // Priced on the text the plan priced (title + body), not the embedded text (whose normalized
      // body repeats the title): a budget raised by the plan's estimate must cover the charge.
      const cost = estimateStepCost("embed", `${trend.title ?? ""} ${trend.body}`);
      if ((await chargeOrPause(trx, trend, "embed", cost, log)) === "paused") return false;
      const moved = await transitionTrend(
        trx,
        trend.id,
        ["ENRICHED"],
        "EMBEDDED",
        { embedding_status: "SUCCEEDED" },
        { actor: "worker:embedding", reason: "embedded" },
      );
      if (!moved) return false;
      await inTransaction?.upsertIn(trx, [item]);
      await trx
        .insertInto("embedding_records")
        .values({
          id: randomUUID(),
          trend_id: trend.id,
          vector_id: trend.id,
          store: deps.store.name,
          model: deps.embedder.model,
          dimension: deps.embedder.dimension,
          attempts: job.attempt,
        })
        .onConflict((oc) => oc.column("trend_id").doNothing())
        .execute();
      await appendProvenance(trx, {
        traceId: trend.trace_id,
        trendId: trend.id,
        step: "embed",
        actor: `worker:embedding:${deps.embedder.model}`,
        input: { chars: text.length, attempt: job.attempt },
        output: {
          vectorId: trend.id,
          store: deps.store.name,
          model: deps.embedder.model,
          dimension: deps.embedder.dimension,
        },
      });
      await enqueueOutbox(
        trx,
        STREAMS.judgeJobs,
        makeEnvelope("trend.embedded", {
          traceId: trend.trace_id,
          trendId: trend.id,
          payload: { trendId: trend.id },
        }),
      );
      return true;
    });
    if (committed)
      log.info(
        { worker_output_prompt: `embed ${text.length} chars with ${deps.embedder.model}` },
        "item embedded",
      );
  };
}
