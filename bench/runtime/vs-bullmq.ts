/**
 * Throughput of the stream-consumer runtime against BullMQ's Worker on the same local Redis:
 * the same no-op handler, the same number of pre-loaded jobs, comparable concurrency. Prints
 * jobs/s for each and the ratio.
 *
 *   npx tsx bench/runtime/vs-bullmq.ts            # BENCH_JOBS=20000 BENCH_CONCURRENCY=32
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";

import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";

import { createLogger } from "../../src/observability/logger.js";
import { makeEnvelope } from "../../src/streams/envelope.js";
import { StreamKeys } from "../../src/streams/stream-names.js";
import { StreamConsumer } from "../../src/workers/runtime/stream-consumer.js";
import { deleteRedisPrefix } from "../pipeline/bench-env.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const BATCH = Number(process.env.BENCH_BATCH ?? CONCURRENCY);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHUNK = 1_000;

const logger = createLogger("silent");

async function streamConsumerRun(redis: Redis, jobs: number): Promise<number> {
  const prefix = `bench-rt-${randomBytes(4).toString("hex")}:`;
  const keys = new StreamKeys(prefix);
  const stream = "bench:jobs";
  for (let i = 0; i < jobs; i += CHUNK) {
    const pipeline = redis.pipeline();
    for (let j = i; j < Math.min(jobs, i + CHUNK); j++) {
      const envelope = makeEnvelope("bench.noop", { traceId: `t${j}`, payload: { j } });
      pipeline.xadd(keys.key(stream), "*", "envelope", JSON.stringify(envelope), "attempt", "1");
    }
    await pipeline.exec();
  }
  let done = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const consumer = new StreamConsumer({
    redis,
    keys,
    stream,
    group: "bench",
    consumer: "bench-1",
    deadLetterStream: "bench:dlq",
    handler: async () => undefined,
    batchSize: BATCH,
    blockMs: 1000,
    concurrency: CONCURRENCY,
    maxAttempts: 3,
    backoff: { baseMs: 100, maxMs: 1000 },
    claimIdleMs: 30_000,
    logger,
    // processed() fires after the XACK, so the clock stops when the last job is acknowledged.
    metrics: {
      processed: () => {
        done += 1;
        if (done === jobs) finished();
      },
      failed: () => undefined,
      retried: () => undefined,
      deadLettered: () => undefined,
      reclaimed: () => undefined,
    },
  });
  const started = performance.now();
  await consumer.start();
  await allDone;
  const elapsed = performance.now() - started;
  await consumer.stop();
  await deleteRedisPrefix(redis, prefix);
  return (jobs / elapsed) * 1000;
}

async function bullmqRun(jobs: number): Promise<number> {
  const prefix = `bench-bull-${randomBytes(4).toString("hex")}`;
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue("bench", { connection, prefix });
  for (let i = 0; i < jobs; i += CHUNK) {
    const batch = [];
    for (let j = i; j < Math.min(jobs, i + CHUNK); j++) {
      batch.push({
        name: "noop",
        data: { j },
        opts: { removeOnComplete: true, removeOnFail: true },
      });
    }
    await queue.addBulk(batch);
  }
  let done = 0;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker("bench", async () => undefined, {
    connection: workerConnection,
    prefix,
    concurrency: CONCURRENCY,
    autorun: false,
  });
  worker.on("completed", () => {
    done += 1;
    if (done === jobs) finished();
  });
  const started = performance.now();
  void worker.run();
  await allDone;
  const elapsed = performance.now() - started;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  workerConnection.disconnect();
  return (jobs / elapsed) * 1000;
}

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const info = await redis.info("server");
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "?";
  console.log(
    `jobs=${JOBS} concurrency=${CONCURRENCY} batch=${BATCH} redis=${version} node=${process.version}`,
  );
  // Warm both paths (JIT, Lua script cache, connections) before measuring.
  await streamConsumerRun(redis, 1_000);
  await bullmqRun(1_000);
  const ours: number[] = [];
  const theirs: number[] = [];
  // Alternate the two so background load on the machine hits both alike.
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(await streamConsumerRun(redis, JOBS));
    theirs.push(await bullmqRun(JOBS));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const fmt = (x: number) => `${Math.round(x).toLocaleString("en-US")} jobs/s`;
  console.log(`StreamConsumer: ${ours.map(fmt).join(", ")} (median ${fmt(median(ours))})`);
  console.log(`BullMQ Worker:  ${theirs.map(fmt).join(", ")} (median ${fmt(median(theirs))})`);
  console.log(
    `ratio (median StreamConsumer / median BullMQ): ${(median(ours) / median(theirs)).toFixed(2)}x`,
  );
  await redis.quit();
}

await main();
