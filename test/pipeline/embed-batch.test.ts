import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Embedder } from "../../src/nlp/embedder.js";
import { createFastEmbedder } from "../../src/nlp/embedder-fast.js";
import { createOfflineEnricher, type Enricher } from "../../src/nlp/enricher.js";
import { createEmbedBatchHandler } from "../../src/pipeline/embed/embed-batch.js";
import { createEmbeddingHandler } from "../../src/pipeline/embed/embedding-worker.js";
import { createEnrichBatchHandler } from "../../src/pipeline/enrich/enrich-batch.js";
import { IngestService } from "../../src/pipeline/ingest/ingest-service.js";
import { PostgresVectorStore } from "../../src/vector/postgres-vector-store.js";
import { stageJob, trendStatus } from "../support/stage-fixtures.js";
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
  await env?.close();
});

const jobFor = (trendId: string, type = "trend.enriched") =>
  stageJob("trend:embedding:jobs", type, trendId);

/** Ingested and enriched (ETL batch path): ready for the embedding stage. */
async function enrichedItems(label: string, n: number): Promise<string[]> {
  const receipts = await ingest.ingestMany(
    Array.from({ length: n }, (_, i) => ({
      source: "wire",
      externalId: `${label}-${i}`,
      title: `Story ${i}`,
      body: `Item ${i}: the harbour authority opened a new ferry line on ${label}.`,
    })),
    "test",
  );
  const alone = await createEnrichBatchHandler({ db: env.db, enricher, logger: env.logger })(
    receipts.map((r) => jobFor(r.id, "trend.ingested")),
    new AbortController().signal,
  );
  expect(alone).toEqual([]);
  return receipts.map((r) => r.id);
}

const batch = () => createEmbedBatchHandler({ db: env.db, embedder, store, logger: env.logger });
const signal = new AbortController().signal;

describe("embedding batch handler", () => {
  it("should embed a whole read in one commit, with the per-item path's rows, vectors and events", async () => {
    const ids = await enrichedItems("all", 4);
    const outboxBefore = new Set(
      (await env.db.selectFrom("outbox").select("id").execute()).map((o) => o.id),
    );
    expect(
      await batch()(
        ids.map((id) => jobFor(id)),
        signal,
      ),
    ).toEqual([]);

    const rows = await env.db
      .selectFrom("enriched_trends")
      .select(["id", "status", "embedding_status", "budget_spent"])
      .where("id", "in", ids)
      .execute();
    expect(rows.map((r) => [r.status, r.embedding_status])).toEqual(
      Array(4).fill(["EMBEDDED", "SUCCEEDED"]),
    );
    for (const id of ids) {
      const charges = await env.db
        .selectFrom("budget_charges")
        .select(["step", "cost"])
        .where("trend_id", "=", id)
        .execute();
      expect(charges.map((c) => c.step).sort()).toEqual(["embed", "etl", "plan"]);
      expect(rows.find((r) => r.id === id)!.budget_spent).toBeCloseTo(
        charges.reduce((s, c) => s + c.cost, 0),
        6,
      );
      const log = await env.db
        .selectFrom("provenance_log")
        .select(["id", "step", "parent_id"])
        .where("trend_id", "=", id)
        .orderBy("id")
        .execute();
      expect(log.map((e) => e.step)).toEqual(["ingest", "plan", "etl", "embed"]);
      expect(log[3]!.parent_id).toBe(log[2]!.id);
    }
    const records = await env.db
      .selectFrom("embedding_records")
      .select(["trend_id", "model", "dimension", "store"])
      .where("trend_id", "in", ids)
      .execute();
    expect(records).toHaveLength(4);
    expect(
      records.every(
        (r) =>
          r.model === embedder.model &&
          r.dimension === embedder.dimension &&
          r.store === "postgres",
      ),
    ).toBe(true);
    for (const id of ids) expect((await store.get(id))?.vector).toHaveLength(embedder.dimension);

    const events = (
      await env.db.selectFrom("outbox").select(["id", "stream", "payload"]).orderBy("id").execute()
    ).filter((o) => !outboxBefore.has(o.id));
    for (const id of ids) {
      const mine = events.filter((e) => (e.payload as { trendId?: string }).trendId === id);
      expect(
        mine.map((e) => [
          e.stream,
          (e.payload as { payload: { to?: string; embeddingStatus?: string } }).payload.to ?? null,
        ]),
      ).toEqual([
        ["trend:updates", "EMBEDDED"],
        ["trend:judge:jobs", null],
      ]);
    }
  });

  it("should change nothing when the same read is delivered again", async () => {
    const ids = await enrichedItems("again", 3);
    const jobs = ids.map((id) => jobFor(id));
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

  it("should hand back unknown trends, a second job for one trend and over-budget items, and commit the rest", async () => {
    const [ok, poor, twice] = (await enrichedItems("mixed", 3)) as [string, string, string];
    await env.db
      .updateTable("enriched_trends")
      .set((eb) => ({ budget_limit: eb.ref("budget_spent") }))
      .where("id", "=", poor)
      .execute();
    const unknown = jobFor("00000000-0000-4000-8000-000000000000");
    const second = jobFor(twice);
    const poorJob = jobFor(poor);
    const alone = await batch()([jobFor(ok), unknown, poorJob, jobFor(twice), second], signal);
    expect(new Set(alone)).toEqual(new Set([unknown, poorJob, second]));
    const status = (id: string) => trendStatus(env.db, id);
    expect(await status(ok)).toBe("EMBEDDED");
    expect(await status(twice)).toBe("EMBEDDED");
    expect(await status(poor)).toBe("ENRICHED");
    expect(
      await env.db
        .selectFrom("embedding_records")
        .select("id")
        .where("trend_id", "=", poor)
        .execute(),
    ).toEqual([]);
    expect(await store.get(poor)).toBeUndefined();
  });

  it("should roll the whole read back, vectors included, when one of its steps was charged already", async () => {
    const [charged, other] = (await enrichedItems("charged", 2)) as [string, string];
    await env.db
      .insertInto("budget_charges")
      .values({ trend_id: charged, step: "embed", cost: 1, unit: "compute_unit" })
      .execute();
    await expect(batch()([jobFor(charged), jobFor(other)], signal)).rejects.toThrow(
      /charged already/,
    );
    const rows = await env.db
      .selectFrom("enriched_trends")
      .select("status")
      .where("id", "in", [charged, other])
      .execute();
    expect(rows.map((r) => r.status)).toEqual(["ENRICHED", "ENRICHED"]);
    expect(
      await env.db
        .selectFrom("embedding_records")
        .select("id")
        .where("trend_id", "in", [charged, other])
        .execute(),
    ).toEqual([]);
    expect(await store.get(other)).toBeUndefined();
  });

  it("should write what the per-item handler writes", async () => {
    const [a, b] = (await enrichedItems("same", 2)) as [string, string];
    await batch()([jobFor(a)], signal);
    await createEmbeddingHandler({ db: env.db, embedder, store, logger: env.logger })(
      jobFor(b),
      signal,
    );
    const fields = ["status", "embedding_status", "budget_spent"] as const;
    const rowA = await env.db
      .selectFrom("enriched_trends")
      .select(fields)
      .where("id", "=", a)
      .executeTakeFirstOrThrow();
    const rowB = await env.db
      .selectFrom("enriched_trends")
      .select(fields)
      .where("id", "=", b)
      .executeTakeFirstOrThrow();
    expect(rowA).toEqual(rowB);
    const prov = async (id: string) =>
      await env.db
        .selectFrom("provenance_log")
        .select(["actor", "input", "output"])
        .where("trend_id", "=", id)
        .where("step", "=", "embed")
        .executeTakeFirstOrThrow();
    const [pa, pb] = [await prov(a), await prov(b)];
    expect(pa.actor).toBe(pb.actor);
    expect((pa.output as { vectorId: string }).vectorId).toBe(a);
    expect({ ...(pa.output as object), vectorId: b }).toEqual(pb.output);
  });
});
