import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startApp } from "../../src/main.js";
import { createOfflineEmbedder, type Embedder } from "../../src/nlp/embedder.js";
import { createEmbeddingHandler } from "../../src/pipeline/embed/embedding-worker.js";
import { GROUPS, STREAMS } from "../../src/streams/stream-names.js";
import { PostgresVectorStore } from "../../src/vector/postgres-vector-store.js";
import { StreamConsumer } from "../../src/workers/runtime/stream-consumer.js";
import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";
import {
  deadLetters,
  embeddingRecords,
  pendingOf,
  provenanceSteps,
  startCrashingWorker,
  trendRow,
} from "./support/fault-helpers.js";
import { FlakyVectorStore } from "./support/faulty-adapters.js";

/**
 * Issue 4: the embedding stage when its process dies mid-job, and when one item keeps failing.
 * The harness runs ETL and the relay only; each test brings its own embedding consumer.
 */

let h: AppHarness;
let embedder: Embedder;
const leftovers: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  h = await startHarness({
    gateway: false,
    workers: ["etl", "relay"],
    config: { CLAIM_IDLE_MS: 300 },
  });
  embedder = await createOfflineEmbedder();
}, 120_000);

afterAll(async () => {
  for (const l of leftovers) await l.stop();
  await embedder?.close();
  await h?.close();
});

async function ingest(source: string, externalId: string): Promise<string> {
  const receipt = await h.app.services.ingest.ingest(
    {
      source,
      externalId,
      title: "Wildfire smoke reaches the coast",
      body: `Smoke from inland wildfires (${externalId}) drifted to coastal towns, and health officials advised residents to stay indoors.`,
    },
    "fault-test",
  );
  return receipt.id;
}

/** The embedding job for this trend has reached the stream (the relay moved it). */
async function jobQueued(trendId: string): Promise<true | undefined> {
  const entries = await h.env.redis.xrange(h.env.keys.key(STREAMS.embeddingJobs), "-", "+");
  return entries.some(([, fields]) => fields[1]?.includes(trendId)) ? true : undefined;
}

describe("embedding worker crashes and slow items", { timeout: 60_000 }, () => {
  it("should leave neither vector nor record when the worker dies mid-transaction, then one of each after redelivery", async () => {
    const { exited, stdout, stderr } = await startCrashingWorker(h.env, "embedding", {
      VECTOR_STORE_PATH: h.env.config.VECTOR_STORE_PATH,
    });

    const id = await ingest("crash-embed", "crash-1");
    expect(await exited, stderr()).toBe(1);
    expect(stdout()).toContain(`wrote ${id} in the transaction`);

    // The vector was written in the transaction that died with the process: Postgres rolled it
    // back with the record, so neither exists, and the entry waits on the dead consumer.
    const reader = new PostgresVectorStore({ db: h.env.db });
    leftovers.push({ stop: () => reader.close() });
    expect(await reader.get(id)).toBeUndefined();
    expect(await reader.count()).toBe(0);
    expect(await trendRow(h.env.db, id)).toMatchObject({
      status: "ENRICHED",
      embedding_status: "PENDING",
    });
    expect(await embeddingRecords(h.env.db, id)).toHaveLength(0);
    expect(await pendingOf(h.env, STREAMS.embeddingJobs, GROUPS.embedding)).toBe(1);

    const live = await startApp(
      h.env.config,
      { gateway: false, workers: ["embedding"] },
      { logger: h.env.logger, embedder: sharedEmbedder() },
    );
    leftovers.push(live);
    await eventually(
      async () =>
        (await trendRow(h.env.db, id)).embedding_status === "SUCCEEDED" ? true : undefined,
      30_000,
    );
    await eventually(async () =>
      (await pendingOf(h.env, STREAMS.embeddingJobs, GROUPS.embedding)) === 0 ? true : undefined,
    );
    await live.stop();

    expect(await reader.count()).toBe(1);
    expect((await reader.get(id))?.id).toBe(id);
    const records = await embeddingRecords(h.env.db, id);
    expect(records).toHaveLength(1);
    // A crash is not a failed attempt: the redelivery is still attempt 1.
    expect(records[0]!.attempts).toBe(1);
    expect((await provenanceSteps(h.env.db, id)).filter((s) => s === "embed")).toHaveLength(1);
    expect((await trendRow(h.env.db, id)).status).toBe("EMBEDDED");
  });

  it("should keep embedding other items while one backs off, even with one handler slot", async () => {
    const store = new FlakyVectorStore(new PostgresVectorStore({ db: h.env.db }));
    const slow = await ingest("backoff-slow", "slow-1");
    await eventually(() => jobQueued(slow));
    const fast = [await ingest("backoff-fast", "fast-1"), await ingest("backoff-fast", "fast-2")];
    for (const id of fast) await eventually(() => jobQueued(id));
    // The slow item fails for as long as the others have not been stored. With one slot, a retry
    // that held the consumer would keep them out forever and the slow item would dead-letter.
    store.failFor(
      (item) => item.id === slow && !fast.every((f) => store.stored.has(f)),
      Number.POSITIVE_INFINITY,
    );

    const consumer = new StreamConsumer({
      redis: h.env.redis,
      keys: h.env.keys,
      stream: STREAMS.embeddingJobs,
      group: GROUPS.embedding,
      deadLetterStream: STREAMS.embeddingDlq,
      consumer: "single-slot",
      handler: createEmbeddingHandler({ db: h.env.db, embedder, store, logger: h.env.logger }),
      batchSize: 1,
      blockMs: 100,
      concurrency: 1,
      maxAttempts: 50,
      backoff: { baseMs: 20, maxMs: 50 },
      claimIdleMs: 10_000,
      logger: h.env.logger,
    });
    leftovers.push({ stop: () => consumer.stop() });
    await consumer.start();
    for (const id of [slow, ...fast]) {
      await eventually(
        async () =>
          (await trendRow(h.env.db, id)).embedding_status === "SUCCEEDED" ? true : undefined,
        30_000,
      );
    }
    await consumer.stop();
    await store.close();

    expect(store.upsertCalls.get(slow)).toBeGreaterThan(1);
    const slowRecord = (await embeddingRecords(h.env.db, slow))[0]!;
    expect(slowRecord.attempts).toBe(store.upsertCalls.get(slow));
    for (const id of fast) {
      expect(store.upsertCalls.get(id)).toBe(1);
      const record = (await embeddingRecords(h.env.db, id))[0]!;
      expect(record.attempts).toBe(1);
      expect(record.created_at.getTime()).toBeLessThanOrEqual(slowRecord.created_at.getTime());
    }
    expect(await deadLetters(h.env, STREAMS.embeddingDlq)).toHaveLength(0);
  });
});

/** The test's embedder, shared with the live app but never closed by it (it closes its own). */
function sharedEmbedder(): Embedder {
  return {
    model: embedder.model,
    dimension: embedder.dimension,
    embed: (texts) => embedder.embed(texts),
    close: async () => undefined,
  };
}
