/**
 * Ingest → ENRICHED throughput next to the strong floor of its transport (issue 11).
 *
 *   npx tsx bench/pipeline/ingest-to-enriched.ts [--items 5000] [--runs 3] [--batch 200]
 *
 * Each run measures, on one machine and in one sitting:
 * - floor: the transport alone: a producer XADDs envelopes in pipelines of 100 while a consumer
 *   reads XREADGROUP COUNT <batch>, writes each read with ONE multi-row INSERT and acknowledges
 *   it with ONE XACK, producer and consumer concurrent.
 * - noop: the real pipeline (IngestService.ingestMany in batches of 100, two in parallel →
 *   outbox → relay → trend:ingest:stream → the ETL stage, batch at a time) with an enricher that
 *   returns a fixed result: what the pipeline's own bookkeeping costs.
 * - pipeline: the same with the real offline models.
 *   Both pipeline runs are timed from the first ingest call until no item of the run is still
 *   RECEIVED or PLANNED (polled every 20 ms); ingest and ETL overlap as in `trendgate start`.
 * - ingest: `ingestTrends` over HTTP (GraphQL, batches of 100, 4 requests in flight) into a
 *   gateway-only app: what integrators can post per second.
 * Each floor and pipeline run also prints (stderr) the CPU it cost per item, in node (all threads:
 * the enrichment pool included), in the Postgres backends of its database and in the Redis
 * server, and a pipeline run when ingest finished.
 * With --runs N the table shows every run and the medians; the last line is one JSON object of
 * the medians (also in bench/results/ingest-to-enriched.json). Own database and Redis prefix per
 * run, dropped at the end. Figures taken on a shared machine are provisional.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { parseArgs } from "node:util";

import { sql } from "kysely";

import { seededRandom } from "../../src/domain/seeded-random.js";
import { type App, startApp } from "../../src/main.js";
import type { Enricher } from "../../src/nlp/enricher.js";
import { createLogger } from "../../src/observability/logger.js";
import { makeEnvelope } from "../../src/streams/envelope.js";
import { median } from "../tools/median.js";
import { type BenchEnv, type CpuUsed, createBenchEnv, startCpuMeter } from "./bench-env.js";
import { newsItem } from "./news-corpus.js";
import { noopEnricher } from "./noop-enricher.js";

const { values: args } = parseArgs({
  options: {
    items: { type: "string", default: "5000" },
    runs: { type: "string", default: "1" },
    batch: { type: "string", default: "200" },
    "timeout-s": { type: "string", default: "240" },
    /** Measure one figure only (floor, noop, pipeline, ingest), e.g. under node --cpu-prof. */
    only: { type: "string" },
  },
});
const ITEMS = Number(args.items);
const RUNS = Number(args.runs);
const READ_BATCH = Number(args.batch);
const TIMEOUT_MS = Number(args["timeout-s"]) * 1000;
const INGEST_BATCH = 100;
const INGEST_PARALLEL = 2;
const HTTP_IN_FLIGHT = 4;
const WARMUP = 200;

class BenchTimeoutError extends Error {
  readonly code = "BENCH_TIMEOUT";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * CPU per item as one stderr phrase. The rate of a phase is wall-clock; the CPU says whether it
 * was bound by CPU (node + postgres + redis per item ≈ 2 cores / rate) or by waiting (round
 * trips), which moves a ratio between phases from one machine or day to the next.
 */
function cpuPerItem(used: CpuUsed, items: number): string {
  const perItem = (ms: number) => (ms / items).toFixed(3);
  return `CPU per item: node ${perItem(used.nodeMs)} ms (all threads), postgres backends ${perItem(used.postgresMs)} ms, redis ${perItem(used.redisMs)} ms`;
}

// BENCH_LOG_LEVEL=debug shows the batches the stages commit (to a file: the output is large).
const silent = createLogger(process.env.BENCH_LOG_LEVEL ?? "silent");

function inputs(runId: string, count: number, seed: number) {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => newsItem(i, random, runId));
}

async function inBatches<T>(
  items: T[],
  size: number,
  parallel: number,
  send: (batch: T[]) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < items.length) {
        const batch = items.slice(next, next + size);
        next += batch.length;
        await send(batch);
      }
    }),
  );
}

/**
 * Waits until all `count` items of the run exist and none is RECEIVED or PLANNED. The poll every
 * 20 ms only asks whether any item of the run still waits, through the status index (its cost
 * follows the backlog, and stops at the first waiting row); the full count, a scan of every
 * trend that showed in the pipeline's own Postgres CPU when it ran 50 times a second, runs when
 * the poll finds none waiting, and decides.
 */
async function waitEnriched(
  env: BenchEnv,
  runId: string,
  count: number,
  deadline: number,
): Promise<void> {
  const pattern = `${runId}-%`;
  for (;;) {
    const { rows: polled } = await sql<{ waiting: boolean }>`
      SELECT EXISTS (SELECT 1 FROM enriched_trends
        WHERE status IN ('RECEIVED', 'PLANNED') AND external_id LIKE ${pattern}) AS waiting`.execute(
      env.database.db,
    );
    let state: unknown = { waiting: true };
    if (!polled[0]!.waiting) {
      const { rows } = await sql<{ done: number; waiting: number }>`
        SELECT count(*) FILTER (WHERE status NOT IN ('RECEIVED', 'PLANNED'))::int AS done,
               count(*) FILTER (WHERE status IN ('RECEIVED', 'PLANNED'))::int AS waiting
        FROM enriched_trends WHERE external_id LIKE ${pattern}`.execute(env.database.db);
      if (rows[0]!.done >= count && rows[0]!.waiting === 0) return;
      state = rows[0];
    }
    if (Date.now() > deadline)
      throw new BenchTimeoutError(
        `ETL did not finish ${count} items in time: ${JSON.stringify(state)}`,
      );
    await sleep(20);
  }
}

/** Items per second from the first ingest call to the last item ENRICHED. */
async function runPipeline(
  env: BenchEnv,
  enricher: Enricher | undefined,
  seed: number,
): Promise<number> {
  const app: App = await startApp(
    env.config,
    { gateway: false, workers: ["etl", "relay"] },
    { logger: silent, ...(enricher ? { enricher } : {}) },
  );
  try {
    const ingest = (runId: string, items: ReturnType<typeof inputs>) =>
      inBatches(items, INGEST_BATCH, INGEST_PARALLEL, (b) =>
        app.services.ingest.ingestMany(b, "bench:integrator"),
      );
    const warmId = `warm-${randomBytes(3).toString("hex")}`;
    await ingest(warmId, inputs(warmId, WARMUP, 7));
    await waitEnriched(env, warmId, WARMUP, Date.now() + 60_000);

    const runId = `run-${randomBytes(3).toString("hex")}`;
    const items = inputs(runId, ITEMS, seed);
    const cpuUsed = await startCpuMeter(env);
    const started = performance.now();
    await ingest(runId, items);
    const ingested = performance.now();
    await waitEnriched(env, runId, ITEMS, Date.now() + TIMEOUT_MS);
    const seconds = (performance.now() - started) / 1000;
    // CPU per item says more than the rate on a shared machine (see --help in the header).
    process.stderr.write(
      `  ingest done after ${((ingested - started) / 1000).toFixed(2)} s, all ENRICHED after ${seconds.toFixed(2)} s; ${cpuPerItem(await cpuUsed(), ITEMS)}\n`,
    );
    return ITEMS / seconds;
  } finally {
    await app.stop();
  }
}

/** `ingestTrends` over HTTP into a gateway-only app. */
async function runHttpIngest(env: BenchEnv, seed: number): Promise<number> {
  const app = await startApp(
    env.config,
    { gateway: true, workers: [], port: 0 },
    { logger: silent },
  );
  try {
    const keys = await app.services.auth.bootstrapKeys();
    const key = keys.find((k) => k.role === "integrator")!.key;
    const mutation = "mutation($inputs: [TrendInput!]!) { ingestTrends(inputs: $inputs) { id } }";
    const post = async (batch: ReturnType<typeof inputs>) => {
      const res = await fetch(`${app.gateway!.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: mutation, variables: { inputs: batch } }),
      });
      const body = (await res.json()) as { errors?: unknown[] };
      if (!res.ok || body.errors)
        throw new Error(`ingestTrends failed: ${res.status} ${JSON.stringify(body.errors)}`);
    };
    const warmId = `hwarm-${randomBytes(3).toString("hex")}`;
    await inBatches(inputs(warmId, WARMUP * 2, 7), INGEST_BATCH, HTTP_IN_FLIGHT, post);
    const runId = `http-${randomBytes(3).toString("hex")}`;
    const items = inputs(runId, ITEMS, seed);
    const started = performance.now();
    await inBatches(items, INGEST_BATCH, HTTP_IN_FLIGHT, post);
    return ITEMS / ((performance.now() - started) / 1000);
  } finally {
    await app.stop();
  }
}

/**
 * The transport's strong floor: pipelined XADD → XREADGROUP COUNT batch → one multi-row INSERT
 * per read → one XACK per read, producer and consumer running at once.
 */
async function runFloor(
  env: BenchEnv,
  count: number,
  seed: number,
  { report = true } = {},
): Promise<number> {
  const { db } = env.database;
  await sql`CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, entry_id text NOT NULL, envelope jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`.execute(
    db,
  );
  const key = env.keys.key(`floor:${randomBytes(3).toString("hex")}`);
  await env.redis.xgroup("CREATE", key, "floor", "$", "MKSTREAM");
  const reader = env.redis.duplicate();
  const envelopes = inputs("floor", count, seed).map((item) =>
    JSON.stringify(
      makeEnvelope("trend.ingested", {
        traceId: randomUUID().replaceAll("-", ""),
        trendId: randomUUID(),
        payload: { ...item },
      }),
    ),
  );
  const deadline = Date.now() + TIMEOUT_MS;
  const cpuUsed = await startCpuMeter(env);
  const started = performance.now();
  try {
    const producer = (async () => {
      for (let i = 0; i < envelopes.length; i += INGEST_BATCH) {
        const pipeline = env.redis.pipeline();
        for (const envelope of envelopes.slice(i, i + INGEST_BATCH))
          pipeline.xadd(key, "*", "envelope", envelope, "attempt", "1");
        await pipeline.exec();
      }
    })();
    let done = 0;
    while (done < count) {
      if (Date.now() > deadline)
        throw new BenchTimeoutError(`floor did not finish ${count} entries in time (${done} done)`);
      const reply = (await reader.xreadgroup(
        "GROUP",
        "floor",
        "c1",
        "COUNT",
        READ_BATCH,
        "BLOCK",
        1000,
        "STREAMS",
        key,
        ">",
      )) as [string, [string, string[]][]][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      await sql`INSERT INTO bench_floor (entry_id, envelope)
        SELECT * FROM unnest(${entries.map(([id]) => id)}::text[], ${entries.map(([, f]) => f[f.indexOf("envelope") + 1]!)}::jsonb[])`.execute(
        db,
      );
      await env.redis.xack(key, "floor", ...entries.map(([id]) => id));
      done += entries.length;
    }
    await producer;
    const seconds = (performance.now() - started) / 1000;
    if (report)
      process.stderr.write(
        `  all inserted after ${seconds.toFixed(2)} s; ${cpuPerItem(await cpuUsed(), count)}\n`,
      );
    return count / seconds;
  } finally {
    reader.disconnect();
    await env.redis.del(key);
  }
}

interface RunFigures {
  floor_items_per_s: number;
  noop_items_per_s: number;
  noop_ratio: number;
  pipeline_items_per_s: number;
  ingest_items_per_s: number;
}

async function oneRun(run: number): Promise<RunFigures> {
  // No embedding worker runs here, so every enriched item stays in the embedding backlog: its
  // mark must hold every item of the run, or ingest refuses the rest (BACKPRESSURE) past 10,000.
  const highWaterMark = Math.max(100_000, ITEMS * 4);
  const env = await createBenchEnv({
    INGEST_HIGH_WATER_MARK: highWaterMark,
    STAGE_HIGH_WATER_MARK: highWaterMark,
    WORKER_BATCH_SIZE: READ_BATCH,
  });
  try {
    const seed = 42 + run;
    await runFloor(env, WARMUP, 7, { report: false });
    const phase = async (name: string, measure: () => Promise<number>) => {
      if (args.only && args.only !== name) return Number.NaN;
      const rate = await measure();
      process.stderr.write(`run ${run + 1} ${name}: ${rate.toFixed(0)} items/s\n`);
      return rate;
    };
    const floor = await phase("floor", () => runFloor(env, ITEMS, seed));
    const noop = await phase("noop", () => runPipeline(env, noopEnricher, seed));
    const pipeline = await phase("pipeline", () => runPipeline(env, undefined, seed));
    const ingest = await phase("ingest", () => runHttpIngest(env, seed));
    return {
      floor_items_per_s: floor,
      noop_items_per_s: noop,
      noop_ratio: noop / floor,
      pipeline_items_per_s: pipeline,
      ingest_items_per_s: ingest,
    };
  } finally {
    await env.close();
  }
}

async function main() {
  console.log(
    `ingest → ENRICHED: ${ITEMS} items × ${RUNS} run(s); reads of ${READ_BATCH}; ingest batches of ${INGEST_BATCH}`,
  );
  console.log(
    `node ${process.version}, ${cpus().length} cores (shared machine: figures are provisional)`,
  );
  const runs: RunFigures[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(await oneRun(r));
  const keys = Object.keys(runs[0]!) as (keyof RunFigures)[];
  const fmt = (k: keyof RunFigures, v: number) =>
    k === "noop_ratio" ? v.toFixed(3) : v.toFixed(0);
  console.log("");
  console.log(
    `${"figure".padEnd(22)} ${runs.map((_, i) => `run ${i + 1}`.padStart(9)).join(" ")} ${"median".padStart(9)} ${"spread".padStart(9)}`,
  );
  const result = {} as RunFigures;
  for (const k of keys) {
    const values = runs.map((r) => r[k]);
    result[k] =
      k === "noop_ratio" ? Math.round(median(values) * 1000) / 1000 : Math.round(median(values));
    const spread = Math.max(...values) - Math.min(...values);
    console.log(
      `${k.padEnd(22)} ${values.map((v) => fmt(k, v).padStart(9)).join(" ")} ${fmt(k, median(values)).padStart(9)} ${fmt(k, spread).padStart(9)}`,
    );
  }
  await mkdir(new URL("../results/", import.meta.url), { recursive: true });
  await writeFile(
    new URL("../results/ingest-to-enriched.json", import.meta.url),
    `${JSON.stringify({ bench: "pipeline/ingest-to-enriched", at: new Date().toISOString(), node: process.version, cores: cpus().length, items: ITEMS, readBatch: READ_BATCH, runs, medians: result }, null, 2)}\n`,
  );
  console.log(JSON.stringify(result));
}

await main();
