import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { afterEach, describe, expect, it } from "vitest";

import {
  EmbeddedVectorStore,
  type EmbeddedVectorStoreOptions,
} from "../../src/vector/embedded-vector-store.js";
import { type VectorItem, VectorStoreError } from "../../src/vector/vector-store.js";
import { item } from "./support/vector-item.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WRITER = fileURLToPath(new URL("./fixtures/vector-writer.ts", import.meta.url));
const DIM = 4;

const leftovers: { stores: EmbeddedVectorStore[]; dirs: string[] } = { stores: [], dirs: [] };

afterEach(async () => {
  await Promise.all(leftovers.stores.splice(0).map((s) => s.close()));
  await Promise.all(leftovers.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "trendgate-vector-test-"));
  leftovers.dirs.push(dir);
  return dir;
}

function open(
  path: string,
  options: Partial<EmbeddedVectorStoreOptions> = {},
): EmbeddedVectorStore {
  const store = new EmbeddedVectorStore({ path, ...options });
  leftovers.stores.push(store);
  return store;
}

async function freshStore(options: Partial<EmbeddedVectorStoreOptions> = {}) {
  const path = await tempDir();
  const store = open(path, options);
  await store.ensureCollection(DIM);
  return { path, store };
}


function runWriter(
  path: string,
  count: number,
  batch: number,
  source: string,
  idSeed?: string,
): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        WRITER,
        path,
        String(DIM),
        String(count),
        String(batch),
        source,
        ...(idSeed ? [idSeed] : []),
      ],
      {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(stdout) as string[])
        : reject(new Error(`writer exited ${code}: ${stderr}`)),
    );
  });
}

async function rejection(promise: Promise<unknown>): Promise<VectorStoreError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VectorStoreError);
  return error as VectorStoreError;
}

describe("EmbeddedVectorStore", () => {
  it("should return nearest vectors closest first with cosine scores", async () => {
    const { store } = await freshStore();
    const exact = item([1, 0, 0, 0]);
    const near = item([0.9, 0.1, 0, 0]);
    const far = item([0, 0, 1, 0]);
    const opposite = item([-2, 0, 0, 0]);
    await store.upsert([far, opposite, exact, near]);

    const matches = await store.nearest([3, 0, 0, 0], 3);

    expect(matches.map((m) => m.id)).toEqual([exact.id, near.id, far.id]);
    expect(matches[0]!.score).toBeCloseTo(1, 6);
    expect(matches[1]!.score).toBeCloseTo(0.9 / Math.hypot(0.9, 0.1), 6);
    expect(matches[2]!.score).toBeCloseTo(0, 6);
    expect(await store.nearest([1, 0, 0, 0], 10)).toHaveLength(4);
    expect(await store.nearest([1, 0, 0, 0], 0)).toEqual([]);
  });

  it("should keep one vector when the same id is upserted twice", async () => {
    const { store } = await freshStore();
    const id = randomUUID();
    await store.upsert([item([1, 0, 0, 0], { status: "EMBEDDED" }, id)]);
    await store.upsert([item([0, 1, 0, 0], { status: "READY" }, id.toUpperCase())]);
    // Within one call the last occurrence wins too.
    await store.upsert([
      item([0, 0, 1, 0], {}, randomUUID()),
      item([0, 1, 0, 0], { status: "READY" }, id),
    ]);

    expect(await store.count()).toBe(2);
    const stored = await store.get(id);
    expect(stored).toEqual({
      id,
      vector: [0, 1, 0, 0],
      metadata: { source: "reddit", status: "READY", createdAt: "2025-03-01T12:00:00.000Z" },
    });
    expect((await store.nearest([1, 0, 0, 0], 10)).filter((m) => m.id === id)).toHaveLength(1);
  });

  it("should forget deleted vectors and ignore unknown ids", async () => {
    const { store } = await freshStore();
    const keep = item([1, 0, 0, 0]);
    const drop = item([1, 1, 0, 0]);
    await store.upsert([keep, drop]);

    await store.delete([drop.id, randomUUID()]);

    expect(await store.count()).toBe(1);
    expect(await store.get(drop.id)).toBeUndefined();
    expect((await store.nearest([1, 1, 0, 0], 5)).map((m) => m.id)).toEqual([keep.id]);
  });

  it("should filter by source, status, creation time and excluded ids", async () => {
    const { store } = await freshStore();
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
    const ids = async (filter: Parameters<EmbeddedVectorStore["nearest"]>[2]) =>
      (await store.nearest([1, 0, 0, 0], 10, filter)).map((m) => m.id);

    expect(await ids({ source: "hn" })).toEqual([b.id, c.id, d.id]);
    expect(await ids({ source: "twitter" })).toEqual([]);
    expect(await ids({ status: ["READY", "PUBLISHED"] })).toEqual([a.id, b.id, d.id]);
    expect(await ids({ status: [] })).toEqual([]);
    // Both bounds are exclusive.
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

  it("should keep vectors across close and reopen", async () => {
    const { path, store } = await freshStore();
    const items = [item([1, 0, 0, 0]), item([0, 1, 0, 0], { source: "hn" }), item([0, 0, 1, 0])];
    await store.upsert(items);
    await store.delete([items[2]!.id]);
    await store.close();

    const reopened = open(path);

    expect(await reopened.count()).toBe(2);
    expect(await reopened.get(items[1]!.id)).toEqual(items[1]);
    expect((await reopened.nearest([0, 1, 0, 0], 1))[0]!.id).toBe(items[1]!.id);
    expect((await rejection(store.count())).code).toBe("VECTOR_STORE_CLOSED");
  });

  it("should reject a vector of the wrong dimension as bad input", async () => {
    const { store } = await freshStore();

    const upsert = await rejection(store.upsert([item([1, 0, 0])]));
    expect(upsert.code).toBe("VECTOR_STORE_BAD_INPUT");
    expect(upsert.retryable).toBe(false);
    expect(upsert.data).toMatchObject({ expected: 4, actual: 3 });

    expect((await rejection(store.nearest([1, 0, 0, 0, 0], 3))).code).toBe(
      "VECTOR_STORE_BAD_INPUT",
    );
    expect((await rejection(store.ensureCollection(8))).data).toEqual({ expected: 4, actual: 8 });
    expect(await store.count()).toBe(0);
  });

  it("should reject non-UUID ids, non-finite components and bad dates as bad input", async () => {
    const { store } = await freshStore();
    const cases: VectorItem[] = [
      { ...item([1, 0, 0, 0]), id: "trend-1" },
      item([1, Number.NaN, 0, 0]),
      item([0, 0, 0, 0]),
      item([1, 0, 0, 0], { createdAt: "yesterday" }),
      item([1, 0, 0, 0], { source: "" }),
    ];
    for (const bad of cases) {
      expect((await rejection(store.upsert([item([0, 1, 0, 0]), bad]))).code).toBe(
        "VECTOR_STORE_BAD_INPUT",
      );
    }
    expect((await rejection(store.nearest([1, 0, 0, 0], -1))).code).toBe("VECTOR_STORE_BAD_INPUT");
    expect((await rejection(store.nearest([1, 0, 0, 0], 3, { createdAfter: "soon" }))).code).toBe(
      "VECTOR_STORE_BAD_INPUT",
    );
    // A rejected batch writes nothing, not even its valid items.
    expect(await store.count()).toBe(0);
  });

  it("should refuse writes before ensureCollection and answer reads as empty", async () => {
    const store = open(await tempDir());

    expect(await store.count()).toBe(0);
    expect(await store.nearest([1, 0, 0, 0], 3)).toEqual([]);
    expect(await store.get(randomUUID())).toBeUndefined();
    const error = await rejection(store.upsert([item([1, 0, 0, 0])]));
    expect(error.code).toBe("VECTOR_STORE_NOT_INITIALIZED");
  });

  it("should let a later delete from another instance win over an earlier upsert, and vice versa", async () => {
    const { path, store: a } = await freshStore();
    const b = open(path);
    const x = item([1, 0, 0, 0]);

    await a.upsert([x]);
    await b.delete([x.id]);
    expect(await a.get(x.id)).toBeUndefined();

    await a.upsert([x]);
    expect(await b.get(x.id)).toEqual(x);
    expect(await b.count()).toBe(1);
  });

  it("should compact many small segments without losing vectors or deletes", async () => {
    const compaction = { maxSegments: 3, keepLargest: 0 };
    const { path, store } = await freshStore({ compaction });
    const reader = open(path);
    const written: VectorItem[] = [];
    for (let i = 0; i < 30; i++) {
      const batch = [item([1, i, 0, 0]), item([0, 1, i, 0])];
      written.push(...batch);
      await store.upsert(batch);
      if (i % 5 === 0) await store.delete([batch[1]!.id]);
      // The reader follows along while files are merged and removed under it.
      if (i % 7 === 0) await reader.count();
    }
    await store.close();

    const segments = (await readdir(join(path, "segments"))).filter((n) => n.endsWith(".seg"));
    expect(segments.length).toBeLessThanOrEqual(compaction.maxSegments + 1);
    expect(segments.some((n) => n.startsWith("c-"))).toBe(true);
    const deleted = new Set(
      written.filter((_, i) => i % 2 === 1 && ((i - 1) / 2) % 5 === 0).map((w) => w.id),
    );
    for (const store of [reader, open(path)]) {
      expect(await store.count()).toBe(written.length - deleted.size);
      for (const w of written)
        expect(await store.get(w.id)).toEqual(deleted.has(w.id) ? undefined : w);
    }
  });

  it("should not resurrect deleted vectors when a compacted delete is read before the older upsert", async () => {
    // keepLargest 1 leaves the big upsert segment alone and merges the small delete segments into
    // a "c-…" file, which a fresh reader lists (and applies) before the "s-…" upsert segment.
    const { path, store } = await freshStore({ compaction: { maxSegments: 2, keepLargest: 1 } });
    const items = Array.from({ length: 10 }, (_, i) => item([1, i, 0, 0]));
    await store.upsert(items);
    for (const gone of items.slice(0, 3)) await store.delete([gone.id]);
    await store.close();
    const prefixes = (await readdir(join(path, "segments")))
      .filter((n) => n.endsWith(".seg"))
      .map((n) => n.slice(0, 2));
    expect(prefixes).toContain("c-");
    expect(prefixes).toContain("s-");

    const reader = open(path);

    expect(await reader.count()).toBe(7);
    for (const gone of items.slice(0, 3)) expect(await reader.get(gone.id)).toBeUndefined();
  });

  it("should break a compaction lock left by a dead process", async () => {
    const { path, store } = await freshStore({ compaction: { maxSegments: 2, keepLargest: 0 } });
    // A pid far above pid_max cannot belong to a live process.
    await writeFile(
      join(path, "segments", "compact.lock"),
      JSON.stringify({ pid: 2 ** 30, at: new Date().toISOString() }),
    );
    for (let i = 0; i < 6; i++) await store.upsert([item([1, i, 0, 0])]);
    await store.close();

    const names = await readdir(join(path, "segments"));
    expect(names.some((n) => n.startsWith("c-"))).toBe(true);
    expect(names).not.toContain("compact.lock");
    expect(await open(path).count()).toBe(6);
  });

  describe("across processes", () => {
    it("should keep every vector when two writer processes write at once", async () => {
      const path = await tempDir();
      // Small batches: ~40 segments each, so both processes also compact while the other writes.
      const [first, second] = await Promise.all([
        runWriter(path, 200, 5, "a"),
        runWriter(path, 200, 5, "b"),
      ]);
      const store = open(path);

      expect(new Set([...first, ...second]).size).toBe(400);
      expect(await store.count()).toBe(400);
      for (const id of [...first, ...second]) expect(await store.get(id)).toBeDefined();
      expect(await store.nearest([1, 1, 1, 1], 500, { source: "a" })).toHaveLength(200);
    });

    it("should keep one vector per id when two processes upsert the same ids at once", async () => {
      const path = await tempDir();
      const [first, second] = await Promise.all([
        runWriter(path, 150, 5, "a", "shared"),
        runWriter(path, 150, 5, "b", "shared"),
      ]);
      const store = open(path);

      expect(second).toEqual(first);
      expect(await store.count()).toBe(150);
      const sources = new Set(
        (await Promise.all(first.map((id) => store.get(id)))).map((i) => i?.metadata.source),
      );
      expect([...sources].every((s) => s === "a" || s === "b")).toBe(true);
      expect(await store.nearest([1, 1, 1, 1], 500)).toHaveLength(150);
    });

    it("should show a reader process another process's new vectors without reopening", async () => {
      const { path, store: reader } = await freshStore();
      expect(await reader.count()).toBe(0);

      const writing = runWriter(path, 120, 10, "w");
      const seen: number[] = [];
      let done = false;
      void writing.finally(() => (done = true)).catch(() => undefined);
      while (!done) {
        seen.push(await reader.count());
        await new Promise((r) => setTimeout(r, 20));
      }
      const ids = await writing;

      // Writes become visible whole and in order: the count seen never goes down.
      expect(seen).toEqual([...seen].sort((x, y) => x - y));
      expect(seen.every((n) => n % 10 === 0)).toBe(true);
      expect(await reader.count()).toBe(120);
      const last = await reader.get(ids.at(-1)!);
      expect(last?.metadata.source).toBe("w");
      expect((await reader.nearest(last!.vector, 1))[0]!.id).toBe(last!.id);
    });
  });
});
