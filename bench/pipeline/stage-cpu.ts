/**
 * CPU per item of each part of ingest → ENRICHED, measured apart (issue 11): where the time of
 * `ingest-to-enriched.ts --only noop` goes, without a profiler.
 *
 *   npx tsx bench/pipeline/stage-cpu.ts [--items 3000] [--rounds 2]
 *
 * Each round, in one private database and Redis prefix (bench-env.ts):
 * - ingest: IngestService.ingestMany in batches of 100, two in parallel, with no relay (its
 *   outbox rows stay);
 * - relay-in: the relay alone publishes those rows (the ingest job and update of each item);
 * - etl: the ETL stage alone, with a no-op enricher, until no item is RECEIVED/PLANNED;
 * - relay-etl: the relay alone publishes what the ETL wrote (two updates and the embedding job).
 * For each it prints wall time, node CPU (all threads) and the CPU of the database's Postgres
 * backends, per item. The first round includes the JIT's warm-up; compare like with like, and
 * alternate old and new code on a shared machine.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";

import { sql } from "kysely";

import { seededRandom } from "../../src/domain/seeded-random.js";
import { startApp } from "../../src/main.js";
import { createLogger } from "../../src/observability/logger.js";
import { IngestService } from "../../src/pipeline/ingest/ingest-service.js";
import { createBenchEnv, startCpuMeter } from "./bench-env.js";
import { newsItem } from "./news-corpus.js";
import { noopEnricher } from "./noop-enricher.js";

const { values: args } = parseArgs({
  options: {
    items: { type: "string", default: "3000" },
    rounds: { type: "string", default: "2" },
  },
});
const ITEMS = Number(args.items);
const ROUNDS = Number(args.rounds);
const silent = createLogger("silent");

const env = await createBenchEnv({ INGEST_HIGH_WATER_MARK: 1e6, WORKER_BATCH_SIZE: 200 });
const { db } = env.database;

async function measure(name: string, work: () => Promise<void>): Promise<void> {
  const cpuUsed = await startCpuMeter(env);
  const started = performance.now();
  await work();
  const wallMs = performance.now() - started;
  const { nodeMs, postgresMs: pgMs } = await cpuUsed();
  const perItem = (ms: number) => `${(ms / ITEMS).toFixed(3)} ms`;
  console.log(
    `${name.padEnd(10)} wall ${perItem(wallMs)}  node ${perItem(nodeMs)}  postgres ${perItem(pgMs)}  per item`,
  );
}

async function until(done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 50));
}

const outboxEmpty = async () =>
  (await sql<{ n: number }>`SELECT count(*)::int AS n FROM outbox`.execute(db)).rows[0]!.n === 0;
const noneWaiting = async () =>
  !(
    await sql<{ waiting: boolean }>`SELECT EXISTS (SELECT 1 FROM enriched_trends
      WHERE status IN ('RECEIVED', 'PLANNED')) AS waiting`.execute(db)
  ).rows[0]!.waiting;

try {
  for (let round = 0; round < ROUNDS; round++) {
    const runId = `cpu${round}-${randomBytes(3).toString("hex")}`;
    const random = seededRandom(42 + round);
    const items = Array.from({ length: ITEMS }, (_, i) => newsItem(i, random, runId));

    const base = await startApp(env.config, { gateway: false, workers: [] }, { logger: silent });
    // No flushOutbox: the relay's share is measured on its own below.
    const ingest = new IngestService({
      db: base.services.db,
      redis: base.services.redis,
      keys: base.services.keys,
      logger: silent,
      limits: {
        bodyMaxChars: env.config.TREND_BODY_MAX_CHARS,
        maxBatch: 1000,
        highWaterMark: 1e6,
        defaultBudget: env.config.DEFAULT_BUDGET,
      },
    });
    await measure("ingest", async () => {
      let next = 0;
      await Promise.all(
        [0, 1].map(async () => {
          while (next < ITEMS) {
            const batch = items.slice(next, next + 100);
            next += batch.length;
            await ingest.ingestMany(batch, "bench:integrator");
          }
        }),
      );
    });
    await base.stop();

    const stage = async (
      name: string,
      workers: ("relay" | "etl")[],
      done: () => Promise<boolean>,
    ) => {
      const app = await startApp(
        env.config,
        { gateway: false, workers },
        { logger: silent, enricher: noopEnricher },
      );
      try {
        await measure(name, () => until(done));
      } finally {
        await app.stop();
      }
    };
    await stage("relay-in", ["relay"], outboxEmpty);
    await stage("etl", ["etl"], noneWaiting);
    await stage("relay-etl", ["relay"], outboxEmpty);
  }
} finally {
  await env.close();
}
