import { afterAll, describe, expect, it } from "vitest";

import { MalformedEntryError } from "../../src/streams/envelope.js";
import { type Job, PermanentError } from "../../src/workers/runtime/stream-consumer.js";
import { deferred, RuntimeFixture, waitFor } from "./support/runtime-fixture.js";

const fx = new RuntimeFixture();
afterAll(() => fx.close());

describe("StreamConsumer", () => {
  it("should process entries added before the group existed", async () => {
    const stream = fx.stream("before-group");
    const sent = await fx.add(stream, 5);
    const seen: string[] = [];
    const consumer = fx.consumer({
      stream,
      handler: async (job) => void seen.push(job.envelope.id),
    });
    await consumer.start();
    await waitFor("all five entries", () => seen.length === 5);
    expect(seen.sort()).toEqual(sent.map((e) => e.id).sort());
    await consumer.stop();
    expect(await fx.pendingCount(stream)).toBe(0);
  });

  it("should create the group idempotently when several consumers start at once", async () => {
    const stream = fx.stream("busygroup");
    const a = fx.consumer({ stream, handler: async () => {} });
    const b = fx.consumer({ stream, handler: async () => {} });
    await Promise.all([a.start(), b.start()]);
    const groups = (await fx.redis.xinfo("GROUPS", fx.keys.key(stream))) as unknown[][];
    expect(groups).toHaveLength(1);
    await Promise.all([a.stop(), b.stop()]);
  });

  it("should acknowledge an entry only after its handler resolves", async () => {
    const stream = fx.stream("ack-after");
    await fx.add(stream, 1);
    const release = deferred();
    const started = deferred<Job>();
    const consumer = fx.consumer({
      stream,
      handler: async (job) => {
        started.resolve(job);
        await release.promise;
      },
    });
    await consumer.start();
    const job = await started.promise;
    expect(job.attempt).toBe(1);
    expect(job.deliveries).toBe(1);
    expect(await fx.pendingCount(stream)).toBe(1);
    release.resolve();
    await waitFor("the ack", async () => (await fx.pendingCount(stream)) === 0);
    await consumer.stop();
  });

  it("should run at most `concurrency` handlers at once", async () => {
    const stream = fx.stream("concurrency");
    await fx.add(stream, 12);
    let running = 0;
    let peak = 0;
    let done = 0;
    const consumer = fx.consumer({
      stream,
      concurrency: 3,
      batchSize: 10,
      handler: async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running -= 1;
        done += 1;
      },
    });
    await consumer.start();
    await waitFor("twelve jobs", () => done === 12);
    await consumer.stop();
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });

  it("should retry a failing entry with backoff and succeed, while the entries behind it are processed", async () => {
    const stream = fx.stream("retry");
    const [first, ...rest] = await fx.add(stream, 4);
    const order: string[] = [];
    const attempts: number[] = [];
    const consumer = fx.consumer({
      stream,
      concurrency: 1,
      batchSize: 1,
      maxAttempts: 4,
      // Pinned jitter: each retry waits ~300 ms, far longer than the three entries behind it need.
      backoff: { baseMs: 300, maxMs: 300 },
      random: () => 0.99,
      handler: async (job) => {
        if (job.envelope.id === first!.id) {
          attempts.push(job.attempt);
          if (job.attempt < 3) throw new Error(`flaky ${job.attempt}`);
        }
        order.push(job.envelope.id);
      },
    });
    await consumer.start();
    await waitFor("all four", () => order.length === 4);
    await consumer.stop();
    expect(attempts).toEqual([1, 2, 3]);
    // With one slot, the entries behind it can only finish first if the failure did not block them.
    expect(order.indexOf(first!.id)).toBe(3);
    expect(order.slice(0, 3)).toEqual(rest.map((e) => e.id));
    expect(await fx.pendingCount(stream)).toBe(0);
    // The entry was never re-added: the stream still holds exactly the four originals.
    expect(await fx.redis.xlen(fx.keys.key(stream))).toBe(4);
    // Its failure bookkeeping is gone once it succeeded.
    expect(await fx.redis.hlen(fx.keys.key(`${stream}:g:failures`))).toBe(0);
  });

  it("should keep an entry's attempt count when the consumer that scheduled its retry dies", async () => {
    const stream = fx.stream("retry-survives");
    await fx.add(stream, 1);
    const first = fx.consumer({
      stream,
      consumer: "first",
      // A fixed 1.5 s backoff (no jitter): the first consumer is stopped long before its retry is
      // due, so the retry is certainly the second consumer's, at attempt 2.
      backoff: { baseMs: 1500, maxMs: 1500 },
      random: () => 0.999,
      handler: async () => {
        throw new Error("transient");
      },
    });
    await first.start();
    await waitFor(
      "the retry to be scheduled",
      async () => (await fx.redis.zcard(fx.keys.key(`${stream}:g:retry-due`))) === 1,
    );
    await first.stop({ timeoutMs: 0 });

    const seen: Job[] = [];
    const second = fx.consumer({
      stream,
      consumer: "second",
      handler: async (job) => void seen.push(job),
    });
    await second.start();
    await waitFor("the retry", () => seen.length === 1);
    await second.stop();
    expect(seen[0]).toMatchObject({ attempt: 2, deliveries: 2 });
    expect(await fx.pendingCount(stream)).toBe(0);
  });

  it("should dead-letter an always-failing entry once after maxAttempts and keep processing the rest", async () => {
    const stream = fx.stream("always-fails");
    const dlq = `${stream}:dead`;
    const [bad, ...good] = await fx.add(stream, 3);
    const processed: string[] = [];
    const dead: { job: Job | undefined; error: Error }[] = [];
    let calls = 0;
    const consumer = fx.consumer({
      stream,
      deadLetterStream: dlq,
      maxAttempts: 3,
      // Pinned jitter so the retries wait 10 and 20 ms: first and last failure times differ.
      random: () => 0.5,
      handler: async (job) => {
        if (job.envelope.id === bad!.id) {
          calls += 1;
          throw Object.assign(new Error("boom"), { code: "UPSTREAM_DOWN" });
        }
        processed.push(job.envelope.id);
      },
      onDeadLetter: async (job, error) => void dead.push({ job, error }),
    });
    await consumer.start();
    await waitFor("the dead letter", () => dead.length === 1);
    await waitFor("the good entries", () => processed.length === 2);
    await consumer.stop();

    expect(calls).toBe(3);
    expect(processed.sort()).toEqual(good.map((e) => e.id).sort());
    const letters = await fx.deadLetters(dlq);
    expect(letters).toHaveLength(1);
    const f = letters[0]!.fields;
    expect(JSON.parse(f.envelope!).id).toBe(bad!.id);
    expect(f.attempts).toBe("3");
    expect(f.error).toBe("boom");
    expect(f.error_code).toBe("UPSTREAM_DOWN");
    expect(f.source_stream).toBe(stream);
    expect(f.group).toBe("g");
    expect(Date.parse(f.first_failed_at!)).toBeLessThanOrEqual(Date.parse(f.last_failed_at!));
    expect(Date.parse(f.last_failed_at!)).toBeGreaterThan(Date.parse(f.first_failed_at!));
    expect(dead[0]!.job?.attempt).toBe(3);
    expect(await fx.pendingCount(stream)).toBe(0);
    expect(await fx.redis.zcard(fx.keys.key(`${stream}:g:retry-due`))).toBe(0);
  });

  it("should dead-letter a malformed envelope at once, without retries", async () => {
    const stream = fx.stream("malformed");
    const dlq = `${stream}:dead`;
    await fx.redis.xadd(fx.keys.key(stream), "*", "envelope", "{not json", "attempt", "1");
    await fx.redis.xadd(fx.keys.key(stream), "*", "other", "x");
    const calls: Job[] = [];
    const dead: { job: Job | undefined; error: Error }[] = [];
    const consumer = fx.consumer({
      stream,
      deadLetterStream: dlq,
      handler: async (job) => void calls.push(job),
      onDeadLetter: async (job, error) => void dead.push({ job, error }),
    });
    await consumer.start();
    await waitFor("two dead letters", () => dead.length === 2);
    await consumer.stop();
    expect(calls).toHaveLength(0);
    expect(dead.every((d) => d.job === undefined && d.error instanceof MalformedEntryError)).toBe(
      true,
    );
    const letters = await fx.deadLetters(dlq);
    expect(letters.map((l) => [l.fields.error_code, l.fields.attempts])).toEqual([
      ["MALFORMED_ENTRY", "1"],
      ["MALFORMED_ENTRY", "1"],
    ]);
    expect(letters[0]!.fields.envelope).toBe("{not json");
    expect(JSON.parse(letters[1]!.fields.raw_fields!)).toEqual({ other: "x" });
    expect(await fx.pendingCount(stream)).toBe(0);
  });

  it("should dead-letter at once when the handler throws PermanentError", async () => {
    const stream = fx.stream("permanent");
    const dlq = `${stream}:dead`;
    await fx.add(stream, 1);
    let calls = 0;
    const consumer = fx.consumer({
      stream,
      deadLetterStream: dlq,
      maxAttempts: 5,
      handler: async () => {
        calls += 1;
        throw new PermanentError("unknown trend id");
      },
    });
    await consumer.start();
    await waitFor("the dead letter", async () => (await fx.redis.xlen(fx.keys.key(dlq))) === 1);
    await consumer.stop();
    expect(calls).toBe(1);
    const [letter] = await fx.deadLetters(dlq);
    expect(letter!.fields).toMatchObject({
      error_code: "PERMANENT",
      attempts: "1",
      error: "unknown trend id",
    });
  });

  it("should dead-letter a Postgres data error (SQLSTATE 22P02) at once and retry a deadlock (40P01)", async () => {
    const stream = fx.stream("sqlstate");
    const dlq = `${stream}:dead`;
    const [data, deadlock] = await fx.add(stream, 2);
    const calls = new Map<string, number>();
    // What pg's DatabaseError carries: the SQLSTATE in `code`, and a severity.
    const pgError = (code: string, message: string) =>
      Object.assign(new Error(message), { code, severity: "ERROR" });
    const consumer = fx.consumer({
      stream,
      deadLetterStream: dlq,
      maxAttempts: 5,
      random: () => 0,
      backoff: { baseMs: 1, maxMs: 1 },
      handler: async (job) => {
        const n = (calls.get(job.envelope.id) ?? 0) + 1;
        calls.set(job.envelope.id, n);
        if (job.envelope.id === data!.id)
          throw pgError("22P02", "invalid input syntax for type json");
        if (n < 3) throw pgError("40P01", "deadlock detected");
      },
    });
    await consumer.start();
    await waitFor(
      "the dead letter and the retried success",
      async () => (await fx.redis.xlen(fx.keys.key(dlq))) === 1 && calls.get(deadlock!.id) === 3,
    );
    await consumer.stop();
    expect(calls.get(data!.id)).toBe(1);
    const [letter] = await fx.deadLetters(dlq);
    expect(letter!.fields).toMatchObject({ error_code: "22P02", attempts: "1" });
    expect(await fx.pendingCount(stream)).toBe(0);
  });

  it("should wait for in-flight handlers on stop", async () => {
    const stream = fx.stream("graceful");
    await fx.add(stream, 2);
    const started = deferred();
    let finished = 0;
    const consumer = fx.consumer({
      stream,
      handler: async () => {
        started.resolve();
        await new Promise((r) => setTimeout(r, 150));
        finished += 1;
      },
    });
    await consumer.start();
    await started.promise;
    await consumer.stop({ timeoutMs: 5_000 });
    expect(consumer.running).toBe(false);
    expect(finished).toBe(2);
    expect(await fx.pendingCount(stream)).toBe(0);
  });

  it("should abort handlers and leave their entries pending when stop times out", async () => {
    const stream = fx.stream("stop-timeout");
    await fx.add(stream, 2);
    let started = 0;
    const aborted: unknown[] = [];
    const consumer = fx.consumer({
      stream,
      handler: (_job, signal) =>
        new Promise<void>((resolve) => {
          started += 1;
          // Resolving after the abort must not acknowledge: stop() gave up on this delivery.
          signal.addEventListener("abort", () => {
            aborted.push(signal.reason);
            resolve();
          });
        }),
    });
    await consumer.start();
    await waitFor("both handlers", () => started === 2);
    await consumer.stop({ timeoutMs: 50 });
    expect(aborted).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(await fx.pendingCount(stream)).toBe(2);
  });
});
