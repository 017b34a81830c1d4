import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import {
  PostgresVectorStore,
  type PostgresVectorStoreOptions,
} from "../../src/vector/postgres-vector-store.js";
import { type VectorFilter, VectorStoreError } from "../../src/vector/vector-store.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";
import { item } from "./support/vector-item.js";

/** Issue 15: vectors in Postgres, searched through a per-process HNSW index that is only a cache. */

const DIM = 4;
let env: TestEnv;
const leftovers: { stores: PostgresVectorStore[]; dirs: string[]; envs: TestEnv[] } = {
  stores: [],
  dirs: [],
  envs: [],
};

beforeAll(async () => {
  env = await createTestEnv();
}, 60_000);

afterAll(async () => {
  await env?.close();
});

beforeEach(async () => {
  await env.db.deleteFrom("trend_vectors").execute();
});

afterEach(async () => {
  await Promise.all(leftovers.stores.splice(0).map((s) => s.close()));
  await Promise.all(leftovers.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  await Promise.all(leftovers.envs.splice(0).map((e) => e.close()));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "trendgate-ann-test-"));
  leftovers.dirs.push(dir);
  return dir;
}

async function open(
  options: Partial<PostgresVectorStoreOptions> = {},
  dimension = DIM,
): Promise<PostgresVectorStore> {
  const store = new PostgresVectorStore({ db: env.db, ...options });
  leftovers.stores.push(store);
  await store.ensureCollection(dimension);
  return store;
}

/** A unit vector of `DIM` components around a direction, with a little noise. */
function noisy(seed: number, around: number[]): number[] {
  const v = around.map((x, i) => x + 0.05 * Math.sin(seed * 7.3 + i * 1.7));
  return v;
}

describe("PostgresVectorStore", () => {
  it("should return nearest vectors closest first with cosine scores", async () => {
    const store = await open();
    const exact = item([1, 0, 0, 0]);
    const near = item([0.9, 0.1, 0, 0]);
    const far = item([0, 0, 1, 0]);
    const opposite = item([-2, 0, 0, 0]);
    await store.upsert([far, opposite, exact, near]);

    const matches = await store.nearest([3, 0, 0, 0], 3);

    expect(matches.map((m) => m.id)).toEqual([exact.id, near.id, far.id]);
    expect(matches[0]!.score).toBeCloseTo(1, 5);
    expect(matches[1]!.score).toBeCloseTo(0.9 / Math.hypot(0.9, 0.1), 5);
    expect(matches[2]!.score).toBeCloseTo(0, 5);
    expect(await store.nearest([1, 0, 0, 0], 10)).toHaveLength(4);
    expect(await store.nearest([1, 0, 0, 0], 0)).toEqual([]);
  });

  it("should keep one vector when the same id is upserted twice", async () => {
    const store = await open();
    const id = randomUUID();
    await store.upsert([item([1, 0, 0, 0], { status: "EMBEDDED" }, id)]);
    expect((await store.nearest([1, 0, 0, 0], 1))[0]!.id).toBe(id);
    await store.upsert([item([0, 1, 0, 0], { status: "READY" }, id.toUpperCase())]);
    await store.upsert([
      item([0, 0, 1, 0], {}, randomUUID()),
      item([0, 1, 0, 0], { status: "READY" }, id),
    ]);

    expect(await store.count()).toBe(2);
    expect(await store.get(id)).toEqual({
      id,
      vector: [0, 1, 0, 0],
      metadata: { source: "reddit", status: "READY", createdAt: "2025-03-01T12:00:00.000Z" },
    });
    const matches = await store.nearest([0, 1, 0, 0], 10);
    expect(matches.filter((m) => m.id === id)).toHaveLength(1);
    expect(matches[0]).toMatchObject({ id });
  });

  it("should forget deleted vectors and ignore unknown ids", async () => {
    const store = await open();
    const keep = item([1, 0, 0, 0]);
    const drop = item([1, 1, 0, 0]);
    await store.upsert([keep, drop]);
    expect(await store.nearest([1, 1, 0, 0], 5)).toHaveLength(2);

    await store.delete([drop.id, randomUUID()]);

    expect(await store.count()).toBe(1);
    expect(await store.get(drop.id)).toBeUndefined();
    expect((await store.nearest([1, 1, 0, 0], 5)).map((m) => m.id)).toEqual([keep.id]);
  });

  it("should filter by source, status, creation time and excluded ids", async () => {
    const store = await open();
    const a = item([1, 0, 0, 0], {
      source: "reddit",
      status: "READY",
      createdAt: "2025-01-01T00:00:00Z",
    });
    const b = item([0.9, 0.1, 0, 0], {
      source: "hn",
      status: "READY",
      createdAt: "2025-02-01T00:00:00Z",
    });
    const c = item([0.8, 0.2, 0, 0], {
      source: "hn",
      status: "ESCALATED",
      createdAt: "2025-03-01T00:00:00Z",
    });
    const d = item([0.7, 0.3, 0, 0], {
      source: "hn",
      status: "PUBLISHED",
      createdAt: "2025-04-01T00:00:00Z",
    });
    await store.upsert([a, b, c, d]);
    const ids = async (filter: VectorFilter) =>
      (await store.nearest([1, 0, 0, 0], 10, filter)).map((m) => m.id);

    expect(await ids({ source: "hn" })).toEqual([b.id, c.id, d.id]);
    expect(await ids({ source: "twitter" })).toEqual([]);
    expect(await ids({ status: ["READY", "PUBLISHED"] })).toEqual([a.id, b.id, d.id]);
    expect(await ids({ status: [] })).toEqual([]);
    expect(await ids({ createdAfter: "2025-02-01T00:00:00Z" })).toEqual([c.id, d.id]);
    expect(await ids({ createdBefore: "2025-03-01T00:00:00.000Z" })).toEqual([a.id, b.id]);
    expect(await ids({ excludeIds: [a.id.toUpperCase(), c.id, "not-a-uuid"] })).toEqual([
      b.id,
      d.id,
    ]);
    expect(
      await ids({
        source: "hn",
        status: ["READY", "ESCALATED"],
        createdAfter: "2025-01-15T00:00:00Z",
        excludeIds: [b.id],
      }),
    ).toEqual([c.id]);
  });

  it("should return k results for a narrow filter when k vectors pass it", async () => {
    const store = await open({}, 16);
    const items = Array.from({ length: 3000 }, (_, i) =>
      item(
        Array.from({ length: 16 }, (_, j) => Math.sin(i * 0.37 + j * 1.3) + (j === i % 16 ? 1 : 0)),
        { source: i % 300 === 0 ? "rare" : "common" },
      ),
    );
    for (let i = 0; i < items.length; i += 500) await store.upsert(items.slice(i, i + 500));
    const query = items[1]!.vector;

    const rare = await store.nearest(query, 10, { source: "rare" });

    const expected = items
      .filter((it) => it.metadata.source === "rare")
      .map((it) => ({ id: it.id, score: cosine(it.vector, query) }))
      .sort((x, y) => y.score - x.score);
    expect(rare.map((m) => m.id)).toEqual(expected.map((e) => e.id));
    expect(rare).toHaveLength(10);
  });

  it("should reject a vector of the wrong dimension, and a collection of another dimension, as bad input", async () => {
    const store = await open();
    await store.upsert([item([1, 0, 0, 0])]);
    await expect(store.upsert([item([1, 0, 0])])).rejects.toMatchObject({
      code: "VECTOR_STORE_BAD_INPUT",
    });
    await expect(store.nearest([1, 0, 0], 1)).rejects.toMatchObject({
      code: "VECTOR_STORE_BAD_INPUT",
    });
    const other = new PostgresVectorStore({ db: env.db });
    leftovers.stores.push(other);
    const error = await other.ensureCollection(3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VectorStoreError);
    expect(error).toMatchObject({
      code: "VECTOR_STORE_BAD_INPUT",
      data: { expected: 4, actual: 3 },
    });
  });

  it("should reject non-UUID ids, non-finite components and bad dates as bad input", async () => {
    const store = await open();
    await expect(store.upsert([item([1, 0, 0, 0], {}, "trend-1")])).rejects.toMatchObject({
      code: "VECTOR_STORE_BAD_INPUT",
    });
    await expect(store.upsert([item([1, Number.NaN, 0, 0])])).rejects.toMatchObject({
      code: "VECTOR_STORE_BAD_INPUT",
    });
    await expect(store.upsert([item([0, 0, 0, 0])])).rejects.toMatchObject({
      code: "VECTOR_STORE_BAD_INPUT",
    });
    await expect(
      store.upsert([item([1, 0, 0, 0], { createdAt: "yesterday" })]),
    ).rejects.toMatchObject({ code: "VECTOR_STORE_BAD_INPUT" });
    expect(await store.count()).toBe(0);
  });

  it("should refuse writes before ensureCollection and answer reads as empty", async () => {
    const store = new PostgresVectorStore({ db: env.db });
    leftovers.stores.push(store);
    await expect(store.upsert([item([1, 0, 0, 0])])).rejects.toMatchObject({
      code: "VECTOR_STORE_NOT_INITIALIZED",
    });
    expect(await store.count()).toBe(0);
    expect(await store.get(randomUUID())).toBeUndefined();
    expect(await store.nearest([1, 0, 0, 0], 5)).toEqual([]);
    await store.close();
    await expect(store.count()).rejects.toMatchObject({ code: "VECTOR_STORE_CLOSED" });
  });

  it("should show one instance's writes and deletes to another instance's next search", async () => {
    const writer = await open();
    const reader = await open();
    const first = item([1, 0, 0, 0]);
    await writer.upsert([first]);
    expect((await reader.nearest([1, 0, 0, 0], 5)).map((m) => m.id)).toEqual([first.id]);

    const second = item([0.9, 0.1, 0, 0]);
    await writer.upsert([second]);
    await writer.delete([first.id]);

    expect((await reader.nearest([1, 0, 0, 0], 5)).map((m) => m.id)).toEqual([second.id]);
  });

  it("should find a vector whose transaction committed after a later one was already read", async () => {
    const store = await open();
    const late = item([1, 0, 0, 0]);
    const early = item([0, 1, 0, 0]);
    // `late` takes the smaller transaction id but commits last: a reader that only remembered
    // the largest id it saw would skip it forever.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const wrote = new Promise<void>((resolve) => (written = resolve));
    const slow = env.db.transaction().execute(async (trx) => {
      await store.transactional.upsertIn(trx, [late]);
      written();
      await held;
    });
    await wrote;
    await store.upsert([early]);
    expect((await store.nearest([1, 0, 0, 0], 5)).map((m) => m.id)).toEqual([early.id]);

    release();
    await slow;
    expect((await store.nearest([1, 0, 0, 0], 5)).map((m) => m.id)).toEqual([late.id, early.id]);
  });

  it("should leave nothing behind when the transaction that wrote a vector rolls back", async () => {
    const store = await open();
    const lost = item([1, 0, 0, 0]);
    await expect(
      env.db.transaction().execute(async (trx) => {
        await store.transactional.upsertIn(trx, [lost]);
        throw new Error("the embedding record could not be written");
      }),
    ).rejects.toThrow("could not be written");

    expect(await store.get(lost.id)).toBeUndefined();
    expect(await store.nearest([1, 0, 0, 0], 5)).toEqual([]);
  });

  it("should start from its persisted index and catch up on what was written since", async () => {
    const path = await tempDir();
    const first = await open({ path });
    const before = Array.from({ length: 50 }, (_, i) => item(noisy(i, [1, 0, 0, 0])));
    await first.upsert(before);
    expect(await first.nearest([1, 0, 0, 0], 1)).toHaveLength(1);
    await first.close();

    const after = item([0, 0, 0, 1]);
    const writer = await open();
    await writer.upsert([after]);
    await writer.delete([before[0]!.id]);

    const second = await open({ path });
    await second.warmUp();
    expect(second.indexSource).toBe("snapshot");
    expect(second.indexedCount).toBe(50);
    expect((await second.nearest([0, 0, 0, 1], 1))[0]!.id).toBe(after.id);
    const all = await second.nearest([1, 0, 0, 0], 100);
    expect(all.map((m) => m.id)).not.toContain(before[0]!.id);
    expect(all).toHaveLength(50);
  });

  it("should rebuild instead of answering with another database's vectors after the database is recreated", async () => {
    const path = await tempDir();
    const old = await open({ path });
    await old.upsert(Array.from({ length: 20 }, (_, i) => item(noisy(i, [1, 0, 0, 0]))));
    expect(await old.nearest([1, 0, 0, 0], 5)).toHaveLength(5);
    await old.close();

    const recreated = await createTestEnv();
    leftovers.envs.push(recreated);
    const fresh = new PostgresVectorStore({ db: recreated.db, path });
    leftovers.stores.push(fresh);
    await fresh.ensureCollection(DIM);
    expect(await fresh.nearest([1, 0, 0, 0], 5)).toEqual([]);
    expect(fresh.indexSource).toBe("postgres");
    const only = item([1, 0, 0, 0]);
    await fresh.upsert([only]);
    expect((await fresh.nearest([1, 0, 0, 0], 5)).map((m) => m.id)).toEqual([only.id]);
  }, 60_000);

  it("should build its index at warm-up from the stored vectors' dimension, before any search", async () => {
    const writer = await open();
    await writer.upsert(Array.from({ length: 30 }, (_, i) => item(noisy(i, [0, 1, 0, 0]))));
    const gateway = new PostgresVectorStore({ db: env.db });
    leftovers.stores.push(gateway);
    expect(gateway.indexedCount).toBe(0);

    await gateway.warmUp();

    expect(gateway.indexSource).toBe("postgres");
    expect(gateway.indexedCount).toBe(30);
  });

  it("should rebuild when the persisted index claims transactions this database has not reached (a restored dump)", async () => {
    const path = await tempDir();
    const first = await open({ path });
    const stored = item([1, 0, 0, 0]);
    await first.upsert([stored]);
    await first.nearest([1, 0, 0, 0], 1);
    await first.close();
    const { readFile, writeFile } = await import("node:fs/promises");
    const meta = join(path, (await readFile(join(path, "current"), "utf8")).trim(), "meta.json");
    await writeFile(
      meta,
      JSON.stringify({ ...JSON.parse(await readFile(meta, "utf8")), xmin: "900000000000" }),
    );

    const second = await open({ path });
    expect((await second.nearest([1, 0, 0, 0], 1)).map((m) => m.id)).toEqual([stored.id]);
    expect(second.indexSource).toBe("postgres");
  });

  it("should rebuild from Postgres when the persisted index is damaged", async () => {
    const path = await tempDir();
    const first = await open({ path });
    const stored = item([1, 0, 0, 0]);
    await first.upsert([stored]);
    await first.nearest([1, 0, 0, 0], 1);
    await first.close();
    const { readFile, writeFile } = await import("node:fs/promises");
    const current = (await readFile(join(path, "current"), "utf8")).trim();
    await writeFile(join(path, current, "labels.bin"), "truncated");

    const second = await open({ path });
    expect((await second.nearest([1, 0, 0, 0], 1)).map((m) => m.id)).toEqual([stored.id]);
    expect(second.indexSource).toBe("postgres");
  });

  it("should answer UNAVAILABLE, retryable, when Postgres cannot be reached", async () => {
    const { openDatabase } = await import("../../src/db/database.js");
    const dead = openDatabase("postgres://trendgate:trendgate@127.0.0.1:1/none", { max: 1 });
    const store = new PostgresVectorStore({ db: dead.db });
    leftovers.stores.push(store);
    const error = await store.count().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VectorStoreError);
    expect(error).toMatchObject({ code: "VECTOR_STORE_UNAVAILABLE", retryable: true });
    await dead.close();
  });
});

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot / (Math.hypot(...a) * Math.hypot(...b));
}
