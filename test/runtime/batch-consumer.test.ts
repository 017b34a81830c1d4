import { afterAll, describe, expect, it } from "vitest";

import { type Job, PermanentError } from "../../src/workers/runtime/stream-consumer.js";
import { RuntimeFixture, waitFor } from "./support/runtime-fixture.js";

const fx = new RuntimeFixture();
afterAll(() => fx.close());

const index = (job: Job) => job.envelope.payload.i as number;

describe("StreamConsumer batch at a time", () => {
  it("should hand the entries of one read to the batch handler together and acknowledge them all", async () => {
    const stream = fx.stream("batch-all");
    await fx.add(stream, 12);
    const batches: number[][] = [];
    const single: number[] = [];
    const consumer = fx.consumer({
      stream,
      batchSize: 12,
      concurrency: 12,
      handler: async (job) => void single.push(index(job)),
      batchHandler: async (jobs) => {
        batches.push(jobs.map(index));
        return [];
      },
    });
    await consumer.start();
    await waitFor(
      "every entry acknowledged",
      async () => batches.flat().length === 12 && (await fx.pendingCount(stream)) === 0,
    );
    await consumer.stop();
    expect(batches.flat().sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(batches.some((b) => b.length > 1)).toBe(true);
    expect(single).toEqual([]);
  });

  it("should run the jobs the batch handler returns one by one, and only those", async () => {
    const stream = fx.stream("batch-returned");
    await fx.add(stream, 6);
    const single: number[] = [];
    const consumer = fx.consumer({
      stream,
      batchSize: 6,
      concurrency: 6,
      handler: async (job) => void single.push(index(job)),
      batchHandler: async (jobs) => jobs.filter((j) => index(j) % 2 === 0),
    });
    await consumer.start();
    await waitFor(
      "every entry acknowledged",
      async () => single.length === 3 && (await fx.pendingCount(stream)) === 0,
    );
    await consumer.stop();
    expect(single.sort()).toEqual([0, 2, 4]);
  });

  it("should split a failed batch so that only the poison entry dead-letters and the others commit", async () => {
    const stream = fx.stream("batch-poison");
    const dlq = `${stream}:dlq`;
    await fx.add(stream, 5);
    const committed: number[] = [];
    let batchCalls = 0;
    const consumer = fx.consumer({
      stream,
      batchSize: 5,
      concurrency: 5,
      handler: async (job) => {
        if (index(job) === 3) throw new PermanentError("poison item");
        committed.push(index(job));
      },
      batchHandler: async (jobs) => {
        batchCalls += 1;
        // All or nothing: the poison entry makes the whole batch roll back.
        if (jobs.some((j) => index(j) === 3)) throw new Error("batch rolled back");
        committed.push(...jobs.map(index));
        return [];
      },
    });
    await consumer.start();
    await waitFor(
      "one dead letter and the rest acknowledged",
      async () => (await fx.deadLetters(dlq)).length === 1 && (await fx.pendingCount(stream)) === 0,
    );
    await consumer.stop();
    expect(batchCalls).toBeGreaterThanOrEqual(1);
    expect(committed.sort()).toEqual([0, 1, 2, 4]);
    const [letter] = await fx.deadLetters(dlq);
    expect(JSON.parse(letter!.fields.envelope!).payload).toEqual({ i: 3 });
  });

  it("should retry a transiently failing entry alone, not in a batch", async () => {
    const stream = fx.stream("batch-retry");
    await fx.add(stream, 3);
    const attemptsOf1: number[] = [];
    const batched: number[] = [];
    const consumer = fx.consumer({
      stream,
      batchSize: 3,
      concurrency: 3,
      handler: async (job) => {
        if (index(job) === 1) {
          attemptsOf1.push(job.attempt);
          if (job.attempt < 2) throw new Error("transient");
        }
      },
      batchHandler: async (jobs) => {
        batched.push(...jobs.map(index));
        return jobs.filter((j) => index(j) === 1);
      },
    });
    await consumer.start();
    await waitFor(
      "the retry to succeed",
      async () => attemptsOf1.length === 2 && (await fx.pendingCount(stream)) === 0,
    );
    await consumer.stop();
    expect(attemptsOf1).toEqual([1, 2]);
    // The retry is claimed from the retry schedule and runs through the single handler only.
    expect(batched.filter((i) => i === 1)).toHaveLength(1);
  });
});
