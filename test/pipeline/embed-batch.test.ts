import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createOfflineEnricher, type Enricher } from "../../src/nlp/enricher.js";
import { createFastEmbedder } from "../../src/nlp/embedder-fast.js";
import type { Embedder } from "../../src/nlp/embedder.js";
import { COMMIT_GROUP, createEmbeddingBatchHandler } from "../../src/pipeline/embed/embed-batch.js";
import { createEmbeddingHandler } from "../../src/pipeline/embed/embedding-worker.js";
import { createEnrichBatchHandler } from "../../src/pipeline/enrich/enrich-batch.js";
import { IngestService } from "../../src/pipeline/ingest/ingest-service.js";
import { makeEnvelope } from "../../src/streams/envelope.js";
import { PostgresVectorStore } from "../../src/vector/postgres-vector-store.js";
import type { Job } from "../../src/workers/runtime/stream-consumer.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
let enricher: Enricher;
let embedder: Embedder;
let store: PostgresVectorStore;
let ingest: IngestService;
beforeAll(async () => {
  env = await createTestEnv();
  enricher = await createOfflineEnricher();
  embedder = createFastEmbedder();
  store = new PostgresVectorStore({ db: env.db, model: embedder.model });
  ingest = new IngestService({
    db: env.db,
    redis: env.redis,
    keys: env.keys,
    logger: env.logger,
    limits: { bodyMaxChars: 10_000, maxBatch: 100, highWaterMark: 10_000, defaultBudget: 100 },
  });
});
afterAll(async () => {
  await store?.close();
  await embedder?.close();
  await enricher?.close?.();
  await env?.close();
});

let entry = 0;
function jobFor(stream: string, trendId: string): Job {
  entry += 1;
  return {
    stream,
    entryId: `1-${entry}`,
    envelope: makeEnvelope("trend.enriched", {
      traceId: "0".repeat(32),
      trendId,
      payload: { trendId },
    }),
    attempt: 1,
    deliveries: 1,
  };
}

/** Items ingested and enriched: ready for the embedding stage. */
async function enrichedItems(label: string, n: number): Promise<string[]> {
  const receipts = await ingest.ingestMany(
    Array.from({ length: n }, (_, i) => ({
      source: "wire",
      externalId: `${label}-${i}`,
      title: `Story ${i}`,
      body: `Item ${i}: the harbour authority opened a new ferry terminal for ${label} commuters.`,
    })),
    "test",
  );
  const ids = receipts.map((r) => r.id);
  const left = await createEnrichBatchHandler({ db: env.db, enricher, logger: env.logger })(
    ids.map((id) => jobFor("trend:ingest:stream", id)),
    new AbortController().signal,
  );
  expect(left).toEqual([]);
  return ids;
}

const deps = () => ({ db: env.db, embedder, store, logger: env.logger });
const batch = () => createEmbeddingBatchHandler(deps());
const signal = new AbortController().signal;
const embedJob = (id: string) => jobFor("trend:embedding:jobs", id);

describe("embedding batch handler", () => {
  it("should embed a whole batch in one commit with the per-item path's vector, record, provenance and judge job", async () => {
    const [a, b, c, alone] = await enrichedItems("batch", 4);
    expect(await batch()([a!, b!, c!].map(embedJob), signal)).toEqual([]);
    await createEmbeddingHandler(deps())(embedJob(alone!), signal);

    for (const id of [a!, b!, c!, alone!]) {
      const row = await env.db
        .selectFrom("enriched_trends")
        .select(["status", "embedding_status", "budget_spent"])
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: "EMBEDDED", embedding_status: "SUCCEEDED" });
      const record = await env.db
        .selectFrom("embedding_records")
        .select(["model", "dimension"])
        .where("trend_id", "=", id)
        .executeTakeFirstOrThrow();
      expect(record).toEqual({ model: embedder.model, dimension: embedder.dimension });
      const steps = await env.db
        .selectFrom("provenance_log")
        .select("step")
        .where("trend_id", "=", id)
        .orderBy("id")
        .execute();
      expect(steps.map((s) => s.step)).toEqual(["ingest", "plan", "etl", "embed"]);
      const judgeJobs = await env.db
        .selectFrom("outbox")
        .select("payload")
        .where("stream", "=", "trend:judge:jobs")
        .execute();
      expect(
        judgeJobs.filter((j) => (j.payload as { trendId?: string }).trendId === id),
      ).toHaveLength(1);
    }
    // The batch writes the same vector as the per-item path would (same text, same model).
    const [expected] = await embedder.embed([
      `Story 0\n${(await env.db.selectFrom("enriched_trends").select("normalized_body").where("id", "=", a!).executeTakeFirstOrThrow()).normalized_body}`,
    ]);
    const stored = await store.get(a!);
    expect(stored?.vector.map((v) => Number(v.toFixed(5)))).toEqual(
      expected!.map((v) => Number(v.toFixed(5))),
    );
    // Same charge for the same text whichever path embedded it.
    const charge = async (id: string) =>
      (
        await env.db
          .selectFrom("budget_charges")
          .select("cost")
          .where("trend_id", "=", id)
          .where("step", "=", "embed")
          .executeTakeFirstOrThrow()
      ).cost;
    expect(await charge(a!)).toBeGreaterThan(0);
  });

  it("should commit a read larger than one commit group, every item once", async () => {
    const ids = await enrichedItems("groups", 2 * COMMIT_GROUP + 3);
    expect(await batch()(ids.map(embedJob), signal)).toEqual([]);
    const rows = await env.db
      .selectFrom("enriched_trends")
      .select("status")
      .where("id", "in", ids)
      .execute();
    expect(rows.map((r) => r.status)).toEqual(Array(ids.length).fill("EMBEDDED"));
    const records = await env.db
      .selectFrom("embedding_records")
      .select("trend_id")
      .where("trend_id", "in", ids)
      .execute();
    expect(records).toHaveLength(ids.length);
    for (const id of ids) expect(await store.get(id)).toBeDefined();
  });

  it("should change nothing when the same batch is delivered again", async () => {
    const ids = await enrichedItems("again", 3);
    const jobs = ids.map(embedJob);
    await batch()(jobs, signal);
    const count = async () => ({
      log: (await env.db.selectFrom("provenance_log").select("id").execute()).length,
      outbox: (await env.db.selectFrom("outbox").select("id").execute()).length,
      records: (await env.db.selectFrom("embedding_records").select("id").execute()).length,
    });
    const before = await count();
    expect(await batch()(jobs, signal)).toEqual([]);
    expect(await count()).toEqual(before);
  });

  it("should hand back unknown trends and a second job for one trend, and pause an over-budget item without embedding it", async () => {
    const [ok, poor] = await enrichedItems("mixed", 2);
    await env.db
      .updateTable("enriched_trends")
      .set({ budget_limit: 0 })
      .where("id", "=", poor!)
      .execute();
    const unknown = embedJob("00000000-0000-4000-8000-000000000000");
    const malformed = embedJob("not-a-uuid");
    const second = embedJob(ok!);
    const alone = await batch()(
      [embedJob(ok!), unknown, embedJob(poor!), second, malformed],
      signal,
    );
    expect(new Set(alone)).toEqual(new Set([unknown, second, malformed]));
    const status = async (id: string) =>
      (
        await env.db
          .selectFrom("enriched_trends")
          .select("status")
          .where("id", "=", id)
          .executeTakeFirstOrThrow()
      ).status;
    expect(await status(ok!)).toBe("EMBEDDED");
    expect(await status(poor!)).toBe("PAUSED");
    expect(await store.get(poor!)).toBeUndefined();
    expect(
      await env.db
        .selectFrom("embedding_records")
        .select("id")
        .where("trend_id", "=", poor!)
        .execute(),
    ).toEqual([]);
  });
});
