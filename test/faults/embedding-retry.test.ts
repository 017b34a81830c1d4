import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { makeEnvelope } from "../../src/streams/envelope.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { PostgresVectorStore } from "../../src/vector/postgres-vector-store.js";
import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";
import {
  deadLetters,
  deadLetterTrendId,
  embeddingRecords,
  provenanceSteps,
  trendgateCli,
  trendRow,
} from "./support/fault-helpers.js";
import { FlakyVectorStore } from "./support/faulty-adapters.js";

/**
 * Issue 4: the embedding stage against a vector store that fails on command. Real Postgres,
 * Redis, offline models and the Postgres vector store; only the store is wrapped. The harness runs ETL,
 * embedding and the outbox relay (no judge), so an embedded item rests at EMBEDDED.
 */
const MAX_ATTEMPTS = 4;
let h: AppHarness;
let store: FlakyVectorStore;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "trendgate-embed-faults-"));
  const vectorPath = path.join(dir, "vectors");
  let real: PostgresVectorStore | undefined;
  // The store lives in the harness's database, which exists only once the harness has started.
  store = new FlakyVectorStore(
    () => (real ??= new PostgresVectorStore({ db: h.env.db, path: vectorPath })),
  );
  h = await startHarness({
    gateway: false,
    workers: ["etl", "embedding", "relay"],
    config: {
      VECTOR_STORE_PATH: vectorPath,
      RETRY_BASE_MS: 20,
      RETRY_MAX_MS: 80,
      RETRY_MAX_ATTEMPTS: MAX_ATTEMPTS,
      CLAIM_IDLE_MS: 1000,
    },
    overrides: { vectorStore: store },
  });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

async function ingest(source: string, externalId: string): Promise<string> {
  const receipt = await h.app.services.ingest.ingest(
    {
      source,
      externalId,
      title: "Port strike enters second week",
      body: `Dock workers at the northern port extended their strike (${externalId}), delaying container shipments across the region.`,
    },
    "fault-test",
  );
  return receipt.id;
}

const embeddingStatus = async (id: string) => (await trendRow(h.env.db, id)).embedding_status;
const until = (id: string, status: string) =>
  eventually(async () => ((await embeddingStatus(id)) === status ? true : undefined), 30_000);

describe("embedding worker against a failing vector store", { timeout: 120_000 }, () => {
  it("should succeed after backoff when the store is down for the first attempts, leaving one vector and one record", async () => {
    store.failFor((item) => item.metadata.source === "flaky-k", 2);
    const before = await store.count();
    const id = await ingest("flaky-k", "k-1");
    await until(id, "SUCCEEDED");

    expect(store.upsertCalls.get(id)).toBe(3);
    expect(await store.count()).toBe(before + 1);
    expect((await store.get(id))?.id).toBe(id);
    const records = await embeddingRecords(h.env.db, id);
    expect(records).toHaveLength(1);
    expect(records[0]!.attempts).toBe(3);
    expect((await trendRow(h.env.db, id)).status).toBe("EMBEDDED");
    expect((await provenanceSteps(h.env.db, id)).filter((s) => s === "embed")).toHaveLength(1);
    expect(await deadLetters(h.env, STREAMS.embeddingDlq)).toHaveLength(0);
  });

  it("should dead-letter after N attempts, mark FAILED, and embed once when the CLI replays it after the store is back", async () => {
    store.failFor((item) => item.metadata.source === "flaky-down", Number.POSITIVE_INFINITY);
    const id = await ingest("flaky-down", "down-1");
    await until(id, "FAILED");

    const letters = (await deadLetters(h.env, STREAMS.embeddingDlq)).filter(
      (l) => deadLetterTrendId(l.fields) === id,
    );
    expect(letters).toHaveLength(1);
    const letter = letters[0]!;
    expect(letter.fields.attempts).toBe(String(MAX_ATTEMPTS));
    expect(letter.fields.error_code).toBe("VECTOR_STORE_UNAVAILABLE");
    expect(letter.fields.error).toContain("injected outage");
    expect(letter.fields.source_stream).toBe(STREAMS.embeddingJobs);
    expect(store.upsertCalls.get(id)).toBe(MAX_ATTEMPTS);
    expect(await store.get(id)).toBeUndefined();
    // Visibly failed (issue 12), with the stage and error on the trend; replay moves it on.
    expect(await trendRow(h.env.db, id)).toMatchObject({
      status: "FAILED",
      failed_stage: "embedding",
      failed_from: "ENRICHED",
    });
    expect(await provenanceSteps(h.env.db, id)).toContain("embed_failed");

    store.heal();
    // --dry-run shows what a replay would change, and writes nothing.
    const stepsBefore = await provenanceSteps(h.env.db, id);
    const dry = await trendgateCli(h.env, [
      "dlq",
      "replay",
      "--stream",
      STREAMS.embeddingDlq,
      "--dry-run",
    ]);
    expect(dry.stderr).not.toMatch(/error/i);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(letter.id);
    expect(dry.stdout).toContain("would_succeed");
    expect(dry.stdout).toContain('embeddingStatus: "FAILED" -> "SUCCEEDED"');
    expect(await deadLetters(h.env, STREAMS.embeddingDlq)).toHaveLength(1);
    expect(await embeddingStatus(id)).toBe("FAILED");
    expect(await provenanceSteps(h.env.db, id)).toEqual(stepsBefore);
    expect(store.upsertCalls.get(id)).toBe(MAX_ATTEMPTS);

    const replay = await trendgateCli(h.env, ["dlq", "replay", "--stream", STREAMS.embeddingDlq]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain("replayed 1 dead letter(s)");
    await until(id, "SUCCEEDED");
    expect(await deadLetters(h.env, STREAMS.embeddingDlq)).toHaveLength(0);
    const steps = await provenanceSteps(h.env.db, id);
    const tail = steps.filter((s) => ["embed_failed", "replay", "embed"].includes(s));
    expect(tail).toEqual(["embed_failed", "replay", "embed"]);
    expect((await store.get(id))?.id).toBe(id);
    expect(await embeddingRecords(h.env.db, id)).toHaveLength(1);

    // Replaying the same dead letter again (a replay that crashed before deleting it) is harmless.
    const calls = store.upsertCalls.get(id);
    await h.env.redis.xadd(
      h.env.keys.key(STREAMS.embeddingDlq),
      "*",
      ...Object.entries(letter.fields).flat(),
    );
    const again = await trendgateCli(h.env, ["dlq", "replay", "--stream", STREAMS.embeddingDlq]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("replayed 1 dead letter(s)");
    await eventually(async () =>
      (await provenanceSteps(h.env.db, id)).filter((s) => s === "replay").length === 2
        ? true
        : undefined,
    );
    // Give the worker time to consume the re-added job, then check it did nothing.
    await eventually(async () => {
      const info = (await h.env.redis.xpending(
        h.env.keys.key(STREAMS.embeddingJobs),
        "embedding",
      )) as [number, ...unknown[]];
      return info[0] === 0 ? true : undefined;
    });
    expect(store.upsertCalls.get(id)).toBe(calls);
    expect(await embeddingRecords(h.env.db, id)).toHaveLength(1);
    expect((await provenanceSteps(h.env.db, id)).filter((s) => s === "embed")).toHaveLength(1);
    expect(await embeddingStatus(id)).toBe("SUCCEEDED");
  });

  it("should dead-letter an unparseable envelope at once, without retries", async () => {
    const key = h.env.keys.key(STREAMS.embeddingJobs);
    const sourceId = await h.env.redis.xadd(key, "*", "envelope", "{not json", "attempt", "1");
    const letter = await eventually(async () =>
      (await deadLetters(h.env, STREAMS.embeddingDlq)).find((l) => l.fields.source_id === sourceId),
    );
    expect(letter.fields.error_code).toBe("MALFORMED_ENTRY");
    expect(letter.fields.error).toBe("envelope is not valid JSON");
    expect(letter.fields.attempts).toBe("1");
    expect(letter.fields.deliveries).toBe("1");
    expect(
      await h.env.redis.hget(
        h.env.keys.key(`${STREAMS.embeddingJobs}:embedding:failures`),
        sourceId!,
      ),
    ).toBeNull();
  });

  it("should dead-letter a job naming an unknown trend at once, with an error naming the id", async () => {
    const trendId = "00000000-0000-4000-8000-00000000dead";
    const envelope = makeEnvelope("trend.enriched", {
      traceId: "t-unknown",
      trendId,
      payload: { trendId },
    });
    const key = h.env.keys.key(STREAMS.embeddingJobs);
    const sourceId = await h.env.redis.xadd(
      key,
      "*",
      "envelope",
      JSON.stringify(envelope),
      "attempt",
      "1",
    );
    const letter = await eventually(async () =>
      (await deadLetters(h.env, STREAMS.embeddingDlq)).find((l) => l.fields.source_id === sourceId),
    );
    expect(letter.fields.error_code).toBe("PERMANENT");
    expect(letter.fields.error).toBe(`unknown trend id ${trendId}`);
    expect(letter.fields.attempts).toBe("1");
    expect(letter.fields.deliveries).toBe("1");
  });
});
