/**
 * Ingest → ENRICHED throughput of the real ETL stage, next to the floor of its transport (issue 3).
 *
 *   npx tsx bench/pipeline/ingest-to-enriched.ts [--items 2000] [--ingest-batch 50] [--ingest-parallel 2]
 *
 * "pipeline": N news-like items (1 to 20 sentences, from src/nlp/data) go through the real
 * IngestService.ingestMany (the service behind the ingestTrends mutation, called in-process so
 * HTTP is not part of the figure) into an app started with startApp(workers: ["etl", "relay"]):
 * outbox → relay → trend:ingest:stream → StreamConsumer (WORKER_BATCH_SIZE, WORKER_CONCURRENCY
 * at their defaults) → plan + enrich + three transactions per item. Measured from the first
 * ingest call to the moment the last item left RECEIVED/PLANNED (polled every 20 ms), so
 * ingest, relay and ETL overlap as in production.
 *
 * "floor": the same number of entries through a bare loop with no enrichment and no pipeline
 * bookkeeping: pipelined XADD of an envelope carrying the same body → XREADGROUP COUNT batch →
 * INSERT one row per entry into a plain table → XACK, with the same batch size and the same
 * number of handlers in flight, producer and consumer running at once.
 *
 * Ratio = pipeline ÷ floor: the share of the transport's speed the real stage keeps. A 50-item
 * warm-up (model load, JIT, pool connections) runs first and is not counted. Own database
 * (tg_bench_*) and Redis prefix, dropped at the end; bounded to --timeout-s (default 240) per phase.
 * Results: table on stdout, JSON in bench/results/ingest-to-enriched.json.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import type { Redis } from "ioredis";
import { sql } from "kysely";
import { type App, startApp } from "../../src/main.js";
import { createLogger } from "../../src/observability/logger.js";
import { makeEnvelope } from "../../src/streams/envelope.js";
import { type BenchEnv, createBenchEnv } from "./bench-env.js";
import { seededRandom } from "../../src/domain/seeded-random.js";
import { newsItem } from "./news-corpus.js";

const { values: args } = parseArgs({
  options: {
    items: { type: "string", default: "2000" },
    "ingest-batch": { type: "string", default: "50" },
    "ingest-parallel": { type: "string", default: "2" },
    "timeout-s": { type: "string", default: "240" },
  },
});
const ITEMS = Number(args.items);
const INGEST_BATCH = Number(args["ingest-batch"]);
const INGEST_PARALLEL = Number(args["ingest-parallel"]);
const TIMEOUT_MS = Number(args["timeout-s"]) * 1000;
const WARMUP = 50;

class BenchTimeoutError extends Error {
  readonly code = "BENCH_TIMEOUT";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PipelineResult {
  items: number;
  seconds: number;
  itemsPerSecond: number;
  ingestSeconds: number;
  outcomes: Record<string, number>;
}

async function ingestAll(app: App, runId: string, count: number, seed: number): Promise<number> {
  const random = seededRandom(seed);
  const inputs = Array.from({ length: count }, (_, i) => newsItem(i, random, runId));
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: INGEST_PARALLEL }, async () => {
      while (next < inputs.length) {
        const batch = inputs.slice(next, next + INGEST_BATCH);
        next += batch.length;
        await app.services.ingest.ingestMany(batch, "bench:integrator");
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** Items of this run that the ETL has finished with (ENRICHED, or PAUSED on budget). */
async function outcomes(env: BenchEnv, runId: string): Promise<Record<string, number>> {
  const rows = await env.database.db
    .selectFrom("enriched_trends")
    .select(["status", sql<number>`count(*)::int`.as("n")])
    .where("external_id", "like", `${runId}-%`)
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function waitProcessed(
  env: BenchEnv,
  runId: string,
  count: number,
  deadline: number,
): Promise<Record<string, number>> {
  for (;;) {
    const by = await outcomes(env, runId);
    const waiting = (by.RECEIVED ?? 0) + (by.PLANNED ?? 0);
    const total = Object.values(by).reduce((a, b) => a + b, 0);
    if (total >= count && waiting === 0) return by;
    if (Date.now() > deadline)
      throw new BenchTimeoutError(
        `ETL did not finish ${count} items in time: ${JSON.stringify(by)}`,
      );
    await sleep(20);
  }
}

async function runPipeline(env: BenchEnv): Promise<PipelineResult> {
  const app = await startApp(
    env.config,
    { gateway: false, workers: ["etl", "relay"] },
    { logger: createLogger("silent") },
  );
  try {
    const warmId = `warm-${randomBytes(3).toString("hex")}`;
    await ingestAll(app, warmId, WARMUP, 7);
    await waitProcessed(env, warmId, WARMUP, Date.now() + 60_000);

    const runId = `run-${randomBytes(3).toString("hex")}`;
    const started = performance.now();
    const deadline = Date.now() + TIMEOUT_MS;
    const ingestSeconds = await ingestAll(app, runId, ITEMS, 42);
    const by = await waitProcessed(env, runId, ITEMS, deadline);
    const seconds = (performance.now() - started) / 1000;
    return { items: ITEMS, seconds, itemsPerSecond: ITEMS / seconds, ingestSeconds, outcomes: by };
  } finally {
    await app.stop();
  }
}

interface FloorResult {
  items: number;
  seconds: number;
  itemsPerSecond: number;
}

/**
 * The transport alone, shaped like the runtime's loop: read at most min(batch, free slots),
 * run each entry's handler (INSERT, then XACK) with at most `concurrency` in flight.
 */
async function runFloor(env: BenchEnv, count: number, seed: number): Promise<FloorResult> {
  const { db } = env.database;
  await sql`CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, entry_id text NOT NULL, envelope jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`.execute(
    db,
  );
  const key = env.keys.key(`floor:${randomBytes(3).toString("hex")}`);
  const group = "floor";
  await env.redis.xgroup("CREATE", key, group, "$", "MKSTREAM");
  const reader: Redis = env.redis.duplicate();
  const batchSize = env.config.WORKER_BATCH_SIZE;
  const concurrency = env.config.WORKER_CONCURRENCY;
  const random = seededRandom(seed);
  const envelopes = Array.from({ length: count }, (_, i) => {
    const item = newsItem(i, random, "floor");
    return JSON.stringify(
      makeEnvelope("trend.ingested", {
        traceId: randomUUID(),
        trendId: randomUUID(),
        payload: { ...item },
      }),
    );
  });

  const deadline = Date.now() + TIMEOUT_MS;
  const started = performance.now();
  const producer = (async () => {
    for (let i = 0; i < envelopes.length; i += INGEST_BATCH) {
      const pipeline = env.redis.pipeline();
      for (const envelope of envelopes.slice(i, i + INGEST_BATCH))
        pipeline.xadd(key, "*", "envelope", envelope, "attempt", "1");
      await pipeline.exec();
    }
  })();

  let done = 0;
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  const handle = async (entryId: string, fields: string[]) => {
    const envelope = fields[fields.indexOf("envelope") + 1]!;
    await db
      .insertInto("bench_floor" as never)
      .values({ entry_id: entryId, envelope } as never)
      .execute();
    await env.redis.xack(key, group, entryId);
  };
  try {
    while (done < count) {
      if (Date.now() > deadline)
        throw new BenchTimeoutError(`floor did not finish ${count} entries in time (${done} done)`);
      if (inFlight >= concurrency) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        continue;
      }
      const reply = (await reader.xreadgroup(
        "GROUP",
        group,
        "c1",
        "COUNT",
        Math.min(batchSize, concurrency - inFlight),
        "BLOCK",
        1000,
        "STREAMS",
        key,
        ">",
      )) as [string, [string, string[]][]][] | null;
      for (const [, entries] of reply ?? []) {
        for (const [entryId, fields] of entries) {
          inFlight += 1;
          void handle(entryId, fields).finally(() => {
            inFlight -= 1;
            done += 1;
            const wake = slotFreed;
            slotFreed = undefined;
            wake?.();
          });
        }
      }
    }
    await producer;
    const seconds = (performance.now() - started) / 1000;
    return { items: count, seconds, itemsPerSecond: count / seconds };
  } finally {
    reader.disconnect();
    await env.redis.del(key);
  }
}

async function main() {
  const env = await createBenchEnv({ INGEST_HIGH_WATER_MARK: Math.max(10_000, ITEMS * 2) });
  try {
    console.log(
      `ingest → ENRICHED: ${ITEMS} items, WORKER_BATCH_SIZE ${env.config.WORKER_BATCH_SIZE}, WORKER_CONCURRENCY ${env.config.WORKER_CONCURRENCY}, ingest batches of ${INGEST_BATCH} × ${INGEST_PARALLEL} in parallel`,
    );
    console.log(`node ${process.version}, ${cpus().length} cores, database ${env.dbName}`);
    const pipeline = await runPipeline(env);
    await runFloor(env, WARMUP, 7);
    const floor = await runFloor(env, ITEMS, 42);
    const ratio = pipeline.itemsPerSecond / floor.itemsPerSecond;

    const row = (name: string, items: number, seconds: number, rate: number, note: string) =>
      `${name.padEnd(30)} ${String(items).padStart(6)} ${seconds.toFixed(2).padStart(9)} ${rate.toFixed(0).padStart(10)}   ${note}`;
    console.log("");
    console.log(
      `${"run".padEnd(30)} ${"items".padStart(6)} ${"seconds".padStart(9)} ${"items/s".padStart(10)}`,
    );
    console.log(
      row(
        "pipeline (ingest→ETL→ENRICHED)",
        pipeline.items,
        pipeline.seconds,
        pipeline.itemsPerSecond,
        `ingest done after ${pipeline.ingestSeconds.toFixed(2)} s; outcomes ${JSON.stringify(pipeline.outcomes)}`,
      ),
    );
    console.log(
      row("floor (XADD→XREADGROUP→INSERT)", floor.items, floor.seconds, floor.itemsPerSecond, ""),
    );
    console.log(
      `ratio pipeline ÷ floor: ${ratio.toFixed(3)} (${(1 / ratio).toFixed(1)}× slower than the bare transport)`,
    );

    await mkdir(new URL("../results/", import.meta.url), { recursive: true });
    const out = new URL("../results/ingest-to-enriched.json", import.meta.url);
    await writeFile(
      out,
      `${JSON.stringify(
        {
          bench: "pipeline/ingest-to-enriched",
          at: new Date().toISOString(),
          node: process.version,
          cores: cpus().length,
          settings: {
            items: ITEMS,
            ingestBatch: INGEST_BATCH,
            ingestParallel: INGEST_PARALLEL,
            workerBatchSize: env.config.WORKER_BATCH_SIZE,
            workerConcurrency: env.config.WORKER_CONCURRENCY,
          },
          pipeline,
          floor,
          ratio,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`wrote ${out.pathname}`);
  } finally {
    await env.close();
  }
}

await main();
