import { randomUUID } from "node:crypto";

import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import type { Embedder } from "../../src/nlp/embedder.js";
import { Reembedder, registerReembedMetrics } from "../../src/pipeline/embed/reembed-worker.js";
import { PostgresVectorStore } from "../../src/vector/postgres-vector-store.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
let store: PostgresVectorStore;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.close());
beforeEach(async () => {
  store = new PostgresVectorStore({ db: env.db, model: "new-model" });
  await env.db.deleteFrom("embedding_records").execute();
  await env.db.deleteFrom("trend_vectors").execute();
});
afterEach(async () => {
  await store.close();
});

/** A 4-d embedder that counts how often it saw each text, and can be told to fail. */
function countingEmbedder(model: string, fail = false): Embedder & { seen: Map<string, number> } {
  const seen = new Map<string, number>();
  return {
    model,
    dimension: 4,
    seen,
    embed(texts) {
      if (fail) return Promise.reject(new Error("model unavailable"));
      for (const t of texts) seen.set(t, (seen.get(t) ?? 0) + 1);
      return Promise.resolve(texts.map((t) => [t.length, 1, 0, 0]));
    },
    close: () => Promise.resolve(),
  };
}

/** n published items whose vectors an older 3-d model made. */
async function seedItems(n: number, oldModel = "old-model"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    ids.push(id);
    await env.db
      .insertInto("enriched_trends")
      .values({
        id,
        trace_id: randomUUID(),
        source: "wire",
        title: `Item ${i}`,
        body: `body number ${i}`,
        metadata: "{}",
        status: "PUBLISHED",
      })
      .execute();
    await env.db
      .insertInto("embedding_records")
      .values({
        id: randomUUID(),
        trend_id: id,
        vector_id: id,
        store: "embedded",
        model: oldModel,
        dimension: 3,
      })
      .execute();
  }
  return ids;
}

const reembedder = (embedder: Embedder, batchSize = 2) =>
  new Reembedder({
    db: env.db,
    embedder,
    store,
    logger: env.logger,
    intervalMs: 60_000,
    batchSize,
  });

describe("Reembedder", () => {
  it("should move every record of another model to the configured one exactly once, with concurrent passes", async () => {
    const ids = await seedItems(7);
    const embedder = countingEmbedder("new-model");
    const [a, b] = await Promise.all([reembedder(embedder).drain(), reembedder(embedder).drain()]);
    expect(a + b).toBe(7);

    const records = await env.db.selectFrom("embedding_records").selectAll().execute();
    expect(records.map((r) => [r.model, r.dimension])).toEqual(Array(7).fill(["new-model", 4]));
    expect([...embedder.seen.values()]).toEqual(Array(7).fill(1));
    const provenance = await env.db
      .selectFrom("provenance_log")
      .select("trend_id")
      .where("step", "=", "reembed")
      .execute();
    expect(provenance.map((p) => p.trend_id).sort()).toEqual([...ids].sort());
    expect(await store.count()).toBe(7);
    expect((await store.get(ids[0]!))?.metadata.status).toBe("PUBLISHED");
    // The vectors committed with their moved records, under the new model, and the index has them.
    const rows = await env.db.selectFrom("trend_vectors").select(["model", "dimension"]).execute();
    expect(rows.map((r) => [r.model, r.dimension])).toEqual(Array(7).fill(["new-model", 4]));
    expect(await store.nearest([1, 1, 0, 0], 10)).toHaveLength(7);

    expect(await reembedder(embedder).drain()).toBe(0);
  });

  it("should leave records on their old model when the embedder fails, and move them on the next pass", async () => {
    const ids = await seedItems(3);
    await expect(reembedder(countingEmbedder("new-model", true)).runOnce()).rejects.toThrow(
      "model unavailable",
    );
    const stale = await env.db.selectFrom("embedding_records").select("model").execute();
    expect(stale.map((r) => r.model)).toEqual(["old-model", "old-model", "old-model"]);
    expect(await store.count()).toBe(0);
    const provenance = env.db
      .selectFrom("provenance_log")
      .select("id")
      .where("step", "=", "reembed")
      .where("trend_id", "in", ids);
    expect(await provenance.execute()).toHaveLength(0);

    expect(await reembedder(countingEmbedder("new-model")).drain()).toBe(3);
    expect(await provenance.execute()).toHaveLength(3);
  });

  it("should report progress as metrics read from Postgres", async () => {
    await seedItems(3);
    const registry = new Registry();
    registerReembedMetrics(registry, env.db, "new-model");
    expect(await registry.metrics()).toContain('trendgate_reembed_pending{model="new-model"} 3');
    expect(await registry.metrics()).toContain('trendgate_embedding_records{model="old-model"} 3');

    await reembedder(countingEmbedder("new-model"), 2).runOnce();
    const text = await registry.metrics();
    expect(text).toContain('trendgate_reembed_pending{model="new-model"} 1');
    expect(text).toContain('trendgate_embedding_records{model="new-model"} 2');
  });
});
