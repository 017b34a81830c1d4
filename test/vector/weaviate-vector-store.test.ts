import { randomUUID } from "node:crypto";
import { createServer } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createVectorStore } from "../../src/vector/create-vector-store.js";
import { PostgresVectorStore } from "../../src/vector/postgres-vector-store.js";
import { checkFilter } from "../../src/vector/vector-input.js";
import { type VectorFilter, VectorStoreError } from "../../src/vector/vector-store.js";
import { toVectorStoreError } from "../../src/vector/weaviate-errors.js";
import { cosineFromAdditional, toWeaviateWhere } from "../../src/vector/weaviate-filter.js";
import { WeaviateVectorStore } from "../../src/vector/weaviate-vector-store.js";
import { item } from "./support/vector-item.js";

const WEAVIATE_URL = process.env.WEAVIATE_URL;

async function rejection(promise: Promise<unknown>): Promise<VectorStoreError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VectorStoreError);
  return error as VectorStoreError;
}

/** A port nothing listens on: bind an ephemeral one, then let it go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("WeaviateVectorStore without a server", () => {
  it("should fail with a retryable VECTOR_STORE_UNAVAILABLE when Weaviate cannot be reached", async () => {
    const store = new WeaviateVectorStore({
      url: `http://127.0.0.1:${await closedPort()}`,
      className: "Unreachable",
    });

    const error = await rejection(store.ensureCollection(3));

    expect(error.code).toBe("VECTOR_STORE_UNAVAILABLE");
    expect(error.retryable).toBe(true);
    expect((await rejection(store.count())).code).toBe("VECTOR_STORE_UNAVAILABLE");
    await store.close();
  });

  it("should reject a class name Weaviate would not accept", () => {
    expect(
      () => new WeaviateVectorStore({ url: "http://localhost:8080", className: "trend vectors" }),
    ).toThrow(expect.objectContaining({ code: "VECTOR_STORE_BAD_INPUT" }));
  });

  it("should map the client's errors onto stable codes", () => {
    const rest = (status: number) =>
      toVectorStoreError(new Error(`usage error (${status}): {"error":[]}`), "upsert");
    expect(rest(503)).toMatchObject({
      code: "VECTOR_STORE_UNAVAILABLE",
      retryable: true,
      data: { status: 503 },
    });
    expect(rest(422)).toMatchObject({ code: "VECTOR_STORE_BAD_INPUT", retryable: false });
    expect(rest(401)).toMatchObject({ code: "VECTOR_STORE_FAILED", retryable: false });
    const graphqlError = Object.assign(new Error("bad query"), {
      response: { status: 200, errors: [{ message: "x" }] },
    });
    expect(toVectorStoreError(graphqlError, "search").code).toBe("VECTOR_STORE_BAD_INPUT");
    const refused = new TypeError("fetch failed", {
      cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }),
    });
    expect(toVectorStoreError(refused, "count")).toMatchObject({
      code: "VECTOR_STORE_UNAVAILABLE",
      retryable: true,
    });
  });

  it("should translate filters into Weaviate where clauses", () => {
    const where = (filter: VectorFilter) => toWeaviateWhere(checkFilter(filter));
    const id = randomUUID();

    expect(where({})).toEqual({ matchesNothing: false, where: undefined });
    expect(where({ status: [] })).toEqual({ matchesNothing: true });
    expect(where({ source: "hn" })).toEqual({
      matchesNothing: false,
      where: { path: ["source"], operator: "Equal", valueText: "hn" },
    });
    expect(
      where({
        source: "hn",
        status: ["READY", "ESCALATED"],
        createdAfter: "2025-01-01T00:00:00Z",
        createdBefore: "2025-02-01T00:00:00+01:00",
        excludeIds: [id.toUpperCase()],
      }),
    ).toEqual({
      matchesNothing: false,
      where: {
        operator: "And",
        operands: [
          { path: ["source"], operator: "Equal", valueText: "hn" },
          {
            operator: "Or",
            operands: [
              { path: ["status"], operator: "Equal", valueText: "READY" },
              { path: ["status"], operator: "Equal", valueText: "ESCALATED" },
            ],
          },
          { path: ["createdAt"], operator: "GreaterThan", valueDate: "2025-01-01T00:00:00.000Z" },
          { path: ["createdAt"], operator: "LessThan", valueDate: "2025-01-31T23:00:00.000Z" },
          { path: ["id"], operator: "NotEqual", valueText: id },
        ],
      },
    });
  });

  it("should turn Weaviate's cosine distance or certainty into cosine similarity", () => {
    expect(cosineFromAdditional({ distance: 0.25, certainty: 0.875 })).toBeCloseTo(0.75);
    expect(cosineFromAdditional({ certainty: 0.875 })).toBeCloseTo(0.75);
    expect(cosineFromAdditional({ distance: 2 })).toBeCloseTo(-1);
  });

  it("should choose Weaviate only when a URL is configured", async () => {
    const weaviate = createVectorStore({
      weaviateUrl: "http://localhost:8080",
      weaviateClass: "Custom",
      db: {} as never,
      indexPath: "unused",
    });
    const local = createVectorStore({ db: {} as never, indexPath: "unused" });

    expect(weaviate).toBeInstanceOf(WeaviateVectorStore);
    expect((weaviate as WeaviateVectorStore).className).toBe("Custom");
    expect(local).toBeInstanceOf(PostgresVectorStore);
    expect(local.name).toBe("postgres");
    await Promise.all([weaviate.close(), local.close()]);
  });
});

describe.skipIf(!WEAVIATE_URL)("weaviate (skipped: WEAVIATE_URL is not set)", () => {
  // A class of its own per run, so parallel runs against one Weaviate do not meet.
  const className = `TrendgateTest${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  let store: WeaviateVectorStore;

  beforeAll(async () => {
    store = new WeaviateVectorStore({
      url: WEAVIATE_URL!,
      apiKey: process.env.WEAVIATE_API_KEY,
      className,
    });
    await store.ensureCollection(4);
  });

  afterAll(async () => {
    await store?.dropCollection();
    await store?.close();
  });

  it("should create the class once and accept ensureCollection again", async () => {
    await store.ensureCollection(4);
    const second = new WeaviateVectorStore({
      url: WEAVIATE_URL!,
      apiKey: process.env.WEAVIATE_API_KEY,
      className,
    });
    await second.ensureCollection(4);
    await second.close();
  });

  it("should upsert by id, search by cosine similarity, filter, get and delete", async () => {
    const exact = item([1, 0, 0, 0], {
      source: "hn",
      status: "READY",
      createdAt: "2025-01-01T00:00:00Z",
    });
    const near = item([0.9, 0.1, 0, 0], {
      source: "hn",
      status: "ESCALATED",
      createdAt: "2025-02-01T00:00:00Z",
    });
    const far = item([0, 0, 1, 0], {
      source: "reddit",
      status: "READY",
      createdAt: "2025-03-01T00:00:00Z",
    });
    await store.upsert([far, exact, near]);
    await store.upsert([{ ...near, metadata: { ...near.metadata, status: "READY" } }]);

    expect(await store.count()).toBe(3);
    const matches = await store.nearest([2, 0, 0, 0], 3);
    expect(matches.map((m) => m.id)).toEqual([exact.id, near.id, far.id]);
    expect(matches[0]!.score).toBeCloseTo(1, 4);
    expect(matches[2]!.score).toBeCloseTo(0, 4);
    const ids = async (filter: VectorFilter) =>
      (await store.nearest([1, 0, 0, 0], 10, filter)).map((m) => m.id);
    expect(await ids({ source: "hn" })).toEqual([exact.id, near.id]);
    expect(await ids({ status: ["READY"] })).toEqual([exact.id, near.id, far.id]);
    expect(await ids({ status: ["ESCALATED"] })).toEqual([]);
    expect(await ids({ createdAfter: "2025-01-01T00:00:00Z" })).toEqual([near.id, far.id]);
    expect(await ids({ createdBefore: "2025-03-01T00:00:00Z", excludeIds: [exact.id] })).toEqual([
      near.id,
    ]);
    const stored = await store.get(near.id);
    expect(stored?.metadata).toEqual({
      ...near.metadata,
      status: "READY",
      createdAt: "2025-02-01T00:00:00.000Z",
    });
    expect(stored?.vector[0]).toBeCloseTo(0.9, 5);

    await store.delete([far.id, randomUUID()]);

    expect(await store.count()).toBe(2);
    expect(await store.get(far.id)).toBeUndefined();
  });

  it("should reject a vector of the wrong dimension as bad input", async () => {
    // The class's dimension is only known from a stored object.
    await store.upsert([item([0, 1, 0, 0])]);
    const error = await rejection(store.upsert([item([1, 0, 0])]));
    expect(error.code).toBe("VECTOR_STORE_BAD_INPUT");
    expect((await rejection(store.ensureCollection(8))).data).toEqual({ expected: 4, actual: 8 });
  });
});
