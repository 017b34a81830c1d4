import { randomUUID } from "node:crypto";

import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { TrendStatus } from "../../src/db/types.js";
import { makeEnvelope } from "../../src/streams/envelope.js";
import { StreamProducer } from "../../src/streams/producer.js";
import { GROUPS, STREAMS } from "../../src/streams/stream-names.js";
import { Reconciler } from "../../src/workers/reconciler.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
let reconciler: Reconciler;
const repairedMetric: [string, number][] = [];
beforeAll(async () => {
  env = await createTestEnv();
  reconciler = new Reconciler({
    db: env.db,
    redis: env.redis,
    keys: env.keys,
    producer: new StreamProducer(env.redis, env.keys, 1000),
    logger: env.logger,
    staleAfterMs: 60_000,
    intervalMs: 1_000_000,
    onRepaired: (stage, n) => repairedMetric.push([stage, n]),
  });
});
afterAll(async () => env?.close());

/** A trend last touched `ageMs` ago (database clock). */
async function trend(status: TrendStatus, ageMs: number): Promise<string> {
  const id = randomUUID();
  await env.db
    .insertInto("enriched_trends")
    .values({
      id,
      trace_id: randomUUID().replaceAll("-", ""),
      source: "r",
      body: "b",
      metadata: "{}",
      status,
      updated_at: sql<Date>`now() - ${`${ageMs} milliseconds`}::interval` as never,
    })
    .execute();
  return id;
}

async function outboxFor(id: string): Promise<{ stream: string; payload: unknown }[]> {
  return env.db
    .selectFrom("outbox")
    .select(["stream", "payload"])
    .where(sql<string>`payload->>'trendId'`, "=", id)
    .execute();
}

const job = (id: string) =>
  JSON.stringify(
    makeEnvelope("trend.enriched", {
      traceId: "t".repeat(32),
      trendId: id,
      payload: { trendId: id },
    }),
  );

describe("Reconciler", () => {
  it("should re-enqueue a stale item that has no job anywhere, once, and report it", async () => {
    const lost = await trend("ENRICHED", 120_000);
    const report = await reconciler.reconcile();
    expect(report.repaired).toEqual({ embedding: 1 });
    const rows = await outboxFor(lost);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.stream).toBe(STREAMS.embeddingJobs);
    expect(rows[0]!.payload).toMatchObject({
      type: "trend.enriched",
      trendId: lost,
      payload: { trendId: lost, reconciled: true },
    });
    const steps = await env.db
      .selectFrom("provenance_log")
      .select("step")
      .where("trend_id", "=", lost)
      .execute();
    expect(steps.map((s) => s.step)).toEqual(["reconcile"]);
    expect(repairedMetric).toEqual([["embedding", 1]]);
    const [alert] = await env.redis.xrange(env.keys.key(STREAMS.operatorAlerts), "-", "+");
    expect(alert![1].join(" ")).toContain("STRANDED_ITEMS_REPAIRED");

    // Touched by the repair: the next pass leaves it alone (and its outbox row counts as a job).
    expect((await reconciler.reconcile()).total).toBe(0);
    expect(await outboxFor(lost)).toHaveLength(1);
  });

  it("should leave items whose job waits undelivered or pending in the group, or in the outbox", async () => {
    await env.db.deleteFrom("outbox").execute();
    const undelivered = await trend("ENRICHED", 120_000);
    const pending = await trend("ENRICHED", 120_000);
    const unsent = await trend("EMBEDDED", 120_000);
    const key = env.keys.key(STREAMS.embeddingJobs);
    await env.redis.xgroup("CREATE", key, GROUPS.embedding, "$", "MKSTREAM");
    await env.redis.xadd(key, "*", "envelope", job(pending), "attempt", "1");
    // Delivered to a consumer that never acknowledges it (a stalled stage).
    await env.redis.xreadgroup(
      "GROUP",
      GROUPS.embedding,
      "stalled",
      "COUNT",
      1,
      "STREAMS",
      key,
      ">",
    );
    await env.redis.xadd(key, "*", "envelope", job(undelivered), "attempt", "1");
    await env.db
      .insertInto("outbox")
      .values({ stream: STREAMS.judgeJobs, payload: job(unsent) })
      .execute();

    const report = await reconciler.reconcile();
    expect(report.total).toBe(0);
    for (const id of [undelivered, pending]) expect(await outboxFor(id)).toHaveLength(0);
  });

  it("should leave items not yet stale and items in human or terminal statuses", async () => {
    await trend("RECEIVED", 1_000);
    for (const status of ["ESCALATED", "PAUSED", "PUBLISHED", "REJECTED", "CANCELLED"] as const)
      await trend(status, 120_000);
    expect((await reconciler.reconcile()).total).toBe(0);
  });

  it("should re-enqueue an acknowledged-but-unprocessed item on each stage's stream", async () => {
    const items = await Promise.all(
      (["RECEIVED", "PLANNED", "EMBEDDED", "READY", "APPROVED"] as const).map((s) =>
        trend(s, 120_000),
      ),
    );
    const report = await reconciler.reconcile();
    expect(report.repaired).toEqual({ etl: 2, judge: 1, publisher: 2 });
    const streams = await Promise.all(items.map(async (id) => (await outboxFor(id))[0]?.stream));
    expect(streams).toEqual([
      STREAMS.ingest,
      STREAMS.ingest,
      STREAMS.judgeJobs,
      STREAMS.publishJobs,
      STREAMS.publishJobs,
    ]);
  });
});
