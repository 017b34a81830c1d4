import { spawn } from "node:child_process";

import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type App, startApp } from "../../src/main.js";
import { StreamProducer } from "../../src/streams/producer.js";
import { OutboxRelay } from "../../src/workers/outbox-relay.js";
import { eventually } from "../support/app-harness.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
let app: App | undefined;
beforeAll(async () => {
  env = await createTestEnv({
    CLAIM_IDLE_MS: 1000,
    WORKER_BATCH_SIZE: 10,
    WORKER_CONCURRENCY: 4,
    WORKER_BLOCK_MS: 200,
  });
});
afterAll(async () => {
  await app?.stop();
  await env?.close();
});

function runCrashingWorker(): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/workers/fixtures/crashing-etl-worker.ts"],
      {
        env: {
          ...process.env,
          DATABASE_URL: env.config.DATABASE_URL,
          REDIS_URL: env.config.REDIS_URL,
          STREAM_PREFIX: env.prefix,
          WORKER_BATCH_SIZE: "10",
          WORKER_CONCURRENCY: "4",
          CRASH_AT: "4",
          LOG_LEVEL: "silent",
        },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe("ETL worker crash", { timeout: 120_000 }, () => {
  it("should enrich each item exactly once after a worker dies mid-batch before acknowledging", async () => {
    const { IngestService } = await import("../../src/pipeline/ingest/ingest-service.js");
    const ingest = new IngestService({
      db: env.db,
      redis: env.redis,
      keys: env.keys,
      logger: env.logger,
      limits: { bodyMaxChars: 10_000, maxBatch: 100, highWaterMark: 1000, defaultBudget: 100 },
    });
    const receipts = await ingest.ingestMany(
      Array.from({ length: 10 }, (_, i) => ({
        source: "crash",
        externalId: `c-${i}`,
        body: `Item ${i}: the city council approved a new budget for public transport.`,
      })),
      "test",
    );
    const relay = new OutboxRelay({
      db: env.db,
      producer: new StreamProducer(env.redis, env.keys, 10_000),
      pollMs: 50,
      logger: env.logger,
    });
    await relay.flush();

    expect(await runCrashingWorker()).toBe(1);
    const afterCrash = await env.db
      .selectFrom("enriched_trends")
      .select("status")
      .where("source", "=", "crash")
      .execute();
    expect(afterCrash.filter((t) => t.status === "ENRICHED").length).toBeLessThan(10);

    // A live worker takes over the dead one's pending entries once they are idle (XAUTOCLAIM).
    app = await startApp(env.config, { gateway: false, workers: ["etl"] }, { logger: env.logger });
    await eventually(async () => {
      const rows = await env.db
        .selectFrom("enriched_trends")
        .select("status")
        .where("source", "=", "crash")
        .execute();
      return rows.every((r) => r.status === "ENRICHED") ? true : undefined;
    }, 60_000);

    const ids = receipts.map((r) => r.id);
    const perStep = await env.db
      .selectFrom("provenance_log")
      .select(["trend_id", "step", sql<number>`count(*)::int`.as("n")])
      .where("trend_id", "in", ids)
      .groupBy(["trend_id", "step"])
      .execute();
    for (const id of ids) {
      expect(perStep.find((r) => r.trend_id === id && r.step === "plan")?.n).toBe(1);
      expect(perStep.find((r) => r.trend_id === id && r.step === "etl")?.n).toBe(1);
    }
    const plans = await env.db
      .selectFrom("planner_intents")
      .select("trend_id")
      .where("trend_id", "in", ids)
      .execute();
    expect(plans).toHaveLength(10);
    const embedJobs = await env.redis.xlen(env.keys.key("trend:embedding:jobs"));
    const outbox = await env.db
      .selectFrom("outbox")
      .select(sql<number>`count(*)::int`.as("n"))
      .where("stream", "=", "trend:embedding:jobs")
      .executeTakeFirst();
    // One embedding job per item (published by nobody yet: no relay here, so they wait in the outbox).
    expect(embedJobs + (outbox?.n ?? 0)).toBe(10);
    const pending = (await env.redis.xpending(env.keys.key("trend:ingest:stream"), "etl")) as [
      number,
      ...unknown[],
    ];
    expect(pending[0]).toBe(0);
  });
});
