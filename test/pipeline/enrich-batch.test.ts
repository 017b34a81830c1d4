import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createOfflineEnricher, type Enricher } from "../../src/nlp/enricher.js";
import { TOPIC_LABELS } from "../../src/nlp/topics.js";
import { createEnrichBatchHandler } from "../../src/pipeline/enrich/enrich-batch.js";
import { createEtlHandler } from "../../src/pipeline/enrich/etl-worker.js";
import { IngestService } from "../../src/pipeline/ingest/ingest-service.js";
import { stageJob, trendStatus } from "../support/stage-fixtures.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
let enricher: Enricher;
let ingest: IngestService;
beforeAll(async () => {
  env = await createTestEnv();
  enricher = await createOfflineEnricher();
  ingest = new IngestService({
    db: env.db,
    redis: env.redis,
    keys: env.keys,
    logger: env.logger,
    limits: { bodyMaxChars: 10_000, maxBatch: 100, highWaterMark: 10_000, defaultBudget: 100 },
  });
});
afterAll(async () => {
  await enricher?.close?.();
  await env?.close();
});

const jobFor = (trendId: string, traceId?: string) =>
  stageJob("trend:ingest:stream", "trend.ingested", trendId, { traceId });

async function ingestItems(label: string, n: number) {
  return ingest.ingestMany(
    Array.from({ length: n }, (_, i) => ({
      source: "wire",
      externalId: `${label}-${i}`,
      title: `Story ${i}`,
      body: `Item ${i}: the city council approved a new budget for public transport on ${label}.`,
    })),
    "test",
  );
}

const batch = () => createEnrichBatchHandler({ db: env.db, enricher, logger: env.logger });
const signal = new AbortController().signal;

describe("ETL batch handler", () => {
  it("should plan and enrich a whole batch in one commit, with the per-item path's records and events", async () => {
    const receipts = await ingestItems("all", 5);
    const ids = receipts.map((r) => r.id);
    const outboxBefore = await env.db.selectFrom("outbox").select("id").execute();
    const alone = await batch()(
      receipts.map((r) => jobFor(r.id, r.traceId)),
      signal,
    );
    expect(alone).toEqual([]);

    const rows = await env.db
      .selectFrom("enriched_trends")
      .selectAll()
      .where("id", "in", ids)
      .execute();
    expect(rows.map((r) => r.status)).toEqual(Array(5).fill("ENRICHED"));
    for (const row of rows) {
      expect(row.language).toBe("en");
      expect(row.topics.every((t) => (TOPIC_LABELS as readonly string[]).includes(t))).toBe(true);
      expect(row.summary?.length).toBeGreaterThan(0);
      const charges = await env.db
        .selectFrom("budget_charges")
        .select(["step", "cost"])
        .where("trend_id", "=", row.id)
        .orderBy("step")
        .execute();
      expect(charges.map((c) => c.step)).toEqual(["etl", "plan"]);
      expect(row.budget_spent).toBeCloseTo(
        charges.reduce((s, c) => s + c.cost, 0),
        6,
      );
      // The provenance chain: ingest → plan → etl, each entry following the one before.
      const log = await env.db
        .selectFrom("provenance_log")
        .select(["id", "step", "parent_id"])
        .where("trend_id", "=", row.id)
        .orderBy("id")
        .execute();
      expect(log.map((e) => e.step)).toEqual(["ingest", "plan", "etl"]);
      expect(log[1]!.parent_id).toBe(log[0]!.id);
      expect(log[2]!.parent_id).toBe(log[1]!.id);
    }
    expect(
      await env.db
        .selectFrom("planner_intents")
        .select("trend_id")
        .where("trend_id", "in", ids)
        .execute(),
    ).toHaveLength(5);

    const seen = new Set(outboxBefore.map((o) => o.id));
    const events = (
      await env.db.selectFrom("outbox").select(["id", "stream", "payload"]).orderBy("id").execute()
    ).filter((o) => !seen.has(o.id));
    for (const id of ids) {
      const mine = events.filter((e) => (e.payload as { trendId?: string }).trendId === id);
      expect(
        mine.map((e) => [e.stream, (e.payload as { payload: { to?: string } }).payload.to ?? null]),
      ).toEqual([
        ["trend:updates", "PLANNED"],
        ["trend:updates", "ENRICHED"],
        ["trend:embedding:jobs", null],
      ]);
      // The updates report the embedding status of the row as written.
      expect(
        mine
          .slice(0, 2)
          .map(
            (e) => (e.payload as { payload: { embeddingStatus?: string } }).payload.embeddingStatus,
          ),
      ).toEqual(["PENDING", "PENDING"]);
    }
  });

  it("should change nothing when the same batch is delivered again", async () => {
    const receipts = await ingestItems("again", 3);
    const jobs = receipts.map((r) => jobFor(r.id));
    await batch()(jobs, signal);
    const count = async () => ({
      log: (await env.db.selectFrom("provenance_log").select("id").execute()).length,
      outbox: (await env.db.selectFrom("outbox").select("id").execute()).length,
    });
    const before = await count();
    expect(await batch()(jobs, signal)).toEqual([]);
    expect(await count()).toEqual(before);
  });

  it("should hand back, to run alone, the jobs of unknown trends, over-budget items and a second job for one trend, and commit the rest", async () => {
    const receipts = await ingestItems("mixed", 3);
    const [ok, poor, twice] = receipts.map((r) => r.id) as [string, string, string];
    await env.db
      .updateTable("enriched_trends")
      .set({ budget_limit: 0.1 })
      .where("id", "=", poor)
      .execute();
    const unknown = jobFor("00000000-0000-4000-8000-000000000000");
    const malformed = jobFor("not-a-uuid");
    const second = jobFor(twice);
    const poorJob = jobFor(poor);
    const alone = await batch()(
      [jobFor(ok), unknown, poorJob, jobFor(twice), second, malformed],
      signal,
    );
    expect(new Set(alone)).toEqual(new Set([unknown, poorJob, second, malformed]));
    const status = (id: string) => trendStatus(env.db, id);
    expect(await status(ok)).toBe("ENRICHED");
    expect(await status(twice)).toBe("ENRICHED");
    // Nothing was charged or moved for the item the batch left alone.
    expect(await status(poor)).toBe("RECEIVED");
    expect(
      await env.db
        .selectFrom("budget_charges")
        .select("step")
        .where("trend_id", "=", poor)
        .execute(),
    ).toEqual([]);
  });

  it("should roll the whole batch back when one of its steps was charged already", async () => {
    const [charged, other] = (await ingestItems("charged", 2)).map((r) => r.id) as [string, string];
    await env.db
      .insertInto("budget_charges")
      .values({ trend_id: charged, step: "etl", cost: 1, unit: "compute_unit" })
      .execute();
    const outboxBefore = (await env.db.selectFrom("outbox").select("id").execute()).length;
    await expect(batch()([jobFor(charged), jobFor(other)], signal)).rejects.toThrow(
      /charged already/,
    );
    const statuses = await env.db
      .selectFrom("enriched_trends")
      .select("status")
      .where("id", "in", [charged, other])
      .execute();
    expect(statuses.map((r) => r.status)).toEqual(["RECEIVED", "RECEIVED"]);
    expect((await env.db.selectFrom("outbox").select("id").execute()).length).toBe(outboxBefore);
    expect(
      await env.db
        .selectFrom("provenance_log")
        .select("step")
        .where("trend_id", "in", [charged, other])
        .where("step", "<>", "ingest")
        .execute(),
    ).toEqual([]);
  });

  it("should write the same enrichment as the per-item handler", async () => {
    const [a, b] = await ingest.ingestMany(
      [
        {
          source: "wire",
          externalId: "same-a",
          title: "Rates on hold",
          body: "The central bank kept its benchmark interest rate unchanged on Tuesday.",
        },
        {
          source: "wire",
          externalId: "same-b",
          title: "Rates on hold",
          body: "The central bank kept its benchmark interest rate unchanged on Tuesday.",
        },
      ],
      "test",
    );
    await batch()([jobFor(a!.id)], signal);
    await createEtlHandler({ db: env.db, enricher, logger: env.logger })(jobFor(b!.id), signal);
    const fields = [
      "status",
      "normalized_body",
      "language",
      "sentiment_score",
      "sentiment_label",
      "topics",
      "toxicity_score",
      "confidence",
      "summary",
      "enrichment",
      "budget_spent",
    ] as const;
    const rowA = await env.db
      .selectFrom("enriched_trends")
      .select(fields)
      .where("id", "=", a!.id)
      .executeTakeFirstOrThrow();
    const rowB = await env.db
      .selectFrom("enriched_trends")
      .select(fields)
      .where("id", "=", b!.id)
      .executeTakeFirstOrThrow();
    expect(rowA).toEqual(rowB);
  });
});
