import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Embedder } from "../../src/nlp/embedder.js";
import { SearchService } from "../../src/pipeline/embed/search-service.js";
import { PostgresVectorStore } from "../../src/vector/postgres-vector-store.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

/**
 * similarTrends' filters with the Postgres vector store (issue 15): the status of a trend changes
 * after its vector is written, so it is checked in Postgres, and the index is asked for more
 * until `first` pass; vectors whose trend is gone never take a result's place.
 */

const DIM = 8;
let env: TestEnv;
let store: PostgresVectorStore;
let search: SearchService;

/** Text "v<i>" embeds to direction i, so tests choose which trends are nearest. */
const embedder: Embedder = {
  model: "test-axes",
  dimension: DIM,
  embed: async (texts) => texts.map((t) => axis(Number(t.slice(1)))),
  close: async () => undefined,
};

function axis(i: number, wobble = 0): number[] {
  return Array.from({ length: DIM }, (_, j) => (j === i ? 1 : 0) + wobble * ((j + 1) % 3));
}

beforeAll(async () => {
  env = await createTestEnv();
  store = new PostgresVectorStore({ db: env.db });
  await store.ensureCollection(DIM);
  search = new SearchService({ db: env.db, store, embedder: async () => embedder });
}, 60_000);

afterAll(async () => {
  await store?.close();
  await env?.close();
});

async function trendWithVector(status: string, vector: number[], source = "wire"): Promise<string> {
  const id = randomUUID();
  await env.db
    .insertInto("enriched_trends")
    .values({
      id,
      trace_id: randomUUID(),
      source,
      body: "b",
      metadata: "{}",
      status: status as never,
    })
    .execute();
  await store.upsert([
    { id, vector, metadata: { source, status: "ENRICHED", createdAt: new Date().toISOString() } },
  ]);
  return id;
}

describe("SearchService.similar with the Postgres vector store", () => {
  it("should return `first` trends of the asked status even when many nearer ones have another", async () => {
    // 60 REJECTED trends right on axis 0, then 3 READY ones a little further away.
    for (let i = 0; i < 60; i++) await trendWithVector("REJECTED", axis(0, 0.001 * i));
    const ready = [];
    for (let i = 0; i < 3; i++) ready.push(await trendWithVector("READY", axis(0, 0.3 + 0.1 * i)));

    const found = await search.similar({ text: "v0", first: 3, filter: { status: ["READY"] } });

    expect(found.map((f) => f.trend.id)).toEqual(ready);
    expect(found.every((f) => f.trend.status === "READY")).toBe(true);
  });

  it("should skip vectors whose trend no longer exists and fill the list with the next ones", async () => {
    const gone = [];
    for (let i = 0; i < 5; i++)
      gone.push(await trendWithVector("READY", axis(1, 0.001 * i), "gone"));
    const kept = [];
    for (let i = 0; i < 2; i++)
      kept.push(await trendWithVector("READY", axis(1, 0.5 + 0.1 * i), "gone"));
    await env.db.deleteFrom("enriched_trends").where("id", "in", gone).execute();

    const found = await search.similar({ text: "v1", first: 2, filter: { source: "gone" } });

    expect(found.map((f) => f.trend.id)).toEqual(kept);
  });

  it("should search by a trend's stored vector and leave the trend itself out", async () => {
    const a = await trendWithVector("READY", axis(2), "by-id");
    const b = await trendWithVector("READY", axis(2, 0.05), "by-id");

    const found = await search.similar({ trendId: a, first: 5, filter: { source: "by-id" } });

    expect(found.map((f) => f.trend.id)).toEqual([b]);
  });
});
