import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

import { afterAll, describe, expect, it } from "vitest";

import { readGroupHealth } from "../../src/workers/runtime/group-health.js";
import { DeliveryLimitError, type Job } from "../../src/workers/runtime/stream-consumer.js";
import { deferred, REDIS_URL, RuntimeFixture, waitFor } from "./support/runtime-fixture.js";

const fx = new RuntimeFixture();
afterAll(() => fx.close());

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CRASH_FIXTURE = fileURLToPath(new URL("./fixtures/crash-consumer.ts", import.meta.url));

async function consumersOf(stream: string, group = "g"): Promise<Record<string, number>> {
  const rows = (await fx.redis.xinfo("CONSUMERS", fx.keys.key(stream), group)) as (
    string | number
  )[][];
  return Object.fromEntries(
    rows.map((row) => {
      const info: Record<string, string | number> = {};
      for (let i = 0; i + 1 < row.length; i += 2) info[String(row[i])] = row[i + 1]!;
      return [String(info.name), Number(info.pending)];
    }),
  );
}

describe("reclaiming entries left behind", () => {
  it("should let a second consumer take over entries whose handler never resolves, delivering each once more", async () => {
    const stream = fx.stream("hung");
    const sent = await fx.add(stream, 4);
    let hungStarted = 0;
    const stuck = fx.consumer({
      stream,
      consumer: "stuck",
      claimIdleMs: 300,
      handler: () => {
        hungStarted += 1;
        return new Promise(() => undefined);
      },
    });
    await stuck.start();
    await waitFor("the stuck consumer to hold all four", () => hungStarted === 4);

    const seen: Job[] = [];
    const rescuer = fx.consumer({
      stream,
      consumer: "rescuer",
      claimIdleMs: 300,
      handler: async (job) => void seen.push(job),
    });
    await rescuer.start();
    await waitFor(
      "the rescuer to finish all four",
      async () => seen.length === 4 && (await fx.pendingCount(stream)) === 0,
    );
    await rescuer.stop();

    expect(seen.map((j) => j.envelope.id).sort()).toEqual(sent.map((e) => e.id).sort());
    expect(seen.every((j) => j.deliveries === 2 && j.attempt === 1)).toBe(true);
    await stuck.stop({ timeoutMs: 0 });
  });

  it("should reclaim entries of a consumer whose connection closed before it acknowledged them", async () => {
    const stream = fx.stream("closed-conn");
    const sent = await fx.add(stream, 5);
    await fx.redis.xgroup("CREATE", fx.keys.key(stream), "g", "0", "MKSTREAM");
    const crashed = fx.newRedis();
    await crashed.xreadgroup(
      "GROUP",
      "g",
      "crashed",
      "COUNT",
      3,
      "STREAMS",
      fx.keys.key(stream),
      ">",
    );
    crashed.disconnect();
    expect(await consumersOf(stream)).toEqual({ crashed: 3 });

    const seen: Job[] = [];
    const live = fx.consumer({
      stream,
      consumer: "live",
      claimIdleMs: 200,
      handler: async (job) => void seen.push(job),
    });
    await live.start();
    await waitFor(
      "all five processed",
      async () => seen.length === 5 && (await fx.pendingCount(stream)) === 0,
    );
    await live.stop();

    const deliveries = Object.fromEntries(seen.map((j) => [j.envelope.id, j.deliveries]));
    expect(sent.map((e) => deliveries[e.id])).toEqual([2, 2, 2, 1, 1]);
  });

  it("should finish the entries of a worker process that crashed mid-handler", async () => {
    const stream = fx.stream("crash");
    const sent = await fx.add(stream, 6);
    const child = spawn(process.execPath, ["--import", "tsx", CRASH_FIXTURE], {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL,
        PREFIX: fx.prefix,
        STREAM: stream,
        GROUP: "g",
        CONSUMER: "doomed",
        CRASH_AFTER: "3",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exitCode = await new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    expect(exitCode, stderr).toBe(1);
    expect(stdout.match(/^started /gm)).toHaveLength(3);
    expect(await consumersOf(stream)).toEqual({ doomed: 3 });

    const seen: Job[] = [];
    const live = fx.consumer({
      stream,
      consumer: "survivor",
      claimIdleMs: 200,
      handler: async (job) => void seen.push(job),
    });
    await live.start();
    await waitFor(
      "all six processed",
      async () => seen.length === 6 && (await fx.pendingCount(stream)) === 0,
    );
    await live.stop();
    expect(seen.map((j) => j.envelope.id).sort()).toEqual(sent.map((e) => e.id).sort());
    expect(seen.filter((j) => j.deliveries === 2)).toHaveLength(3);
  });

  it("should dead-letter a reclaimed entry already delivered more than maxAttempts times", async () => {
    const stream = fx.stream("poison");
    const dlq = `${stream}:dead`;
    const [poison] = await fx.add(stream, 1);
    await fx.redis.xgroup("CREATE", fx.keys.key(stream), "g", "0", "MKSTREAM");
    const read = (await fx.redis.xreadgroup(
      "GROUP",
      "g",
      "crasher",
      "COUNT",
      1,
      "STREAMS",
      fx.keys.key(stream),
      ">",
    )) as [string, [string, string[]][]][];
    const entryId = read[0]![1][0]![0];
    // Two more processes took it and died with it: three deliveries so far.
    await fx.redis.xclaim(fx.keys.key(stream), "g", "crasher-2", 0, entryId);
    await fx.redis.xclaim(fx.keys.key(stream), "g", "crasher-3", 0, entryId);

    let calls = 0;
    const dead = deferred<{ job: Job | undefined; error: Error }>();
    const live = fx.consumer({
      stream,
      deadLetterStream: dlq,
      maxAttempts: 3,
      claimIdleMs: 100,
      handler: async () => void (calls += 1),
      onDeadLetter: async (job, error) => dead.resolve({ job, error }),
    });
    await live.start();
    const { job, error } = await dead.promise;
    await live.stop();
    expect(calls).toBe(0);
    expect(error).toBeInstanceOf(DeliveryLimitError);
    expect(job?.envelope.id).toBe(poison!.id);
    expect(job?.deliveries).toBe(4);
    const [letter] = await fx.deadLetters(dlq);
    expect(letter!.fields).toMatchObject({
      error_code: "DELIVERY_LIMIT",
      deliveries: "4",
      source_id: entryId,
    });
    expect(await fx.pendingCount(stream)).toBe(0);
  });

  it("should remove consumers idle past deadConsumerMs that own nothing, and keep those that own entries or are alive", async () => {
    const stream = fx.stream("dead-consumers");
    await fx.add(stream, 1);
    await fx.redis.xgroup("CREATE", fx.keys.key(stream), "g", "0", "MKSTREAM");
    const ghost = fx.newRedis();
    await ghost.xreadgroup(
      "GROUP",
      "g",
      "busy-ghost",
      "COUNT",
      1,
      "STREAMS",
      fx.keys.key(stream),
      ">",
    );
    await ghost.xgroup("CREATECONSUMER", fx.keys.key(stream), "g", "empty-ghost");
    expect(await consumersOf(stream)).toEqual({ "busy-ghost": 1, "empty-ghost": 0 });

    // Two live consumers waiting on an empty stream look idle to XINFO; their heartbeats keep them.
    const a = fx.consumer({
      stream,
      consumer: "live-a",
      deadConsumerMs: 500,
      handler: async () => {},
    });
    const b = fx.consumer({
      stream,
      consumer: "live-b",
      deadConsumerMs: 500,
      handler: async () => {},
    });
    await Promise.all([a.start(), b.start()]);
    await waitFor(
      "the empty ghost to be removed",
      async () => !("empty-ghost" in (await consumersOf(stream))),
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await consumersOf(stream)).toEqual({ "busy-ghost": 1, "live-a": 0, "live-b": 0 });

    // A clean stop leaves no ghost behind.
    await a.stop();
    expect(await consumersOf(stream)).toEqual({ "busy-ghost": 1, "live-b": 0 });
    await b.stop();
  });
});

describe("readGroupHealth", () => {
  it("should report length, lag, pending, consumers and the oldest pending entry per group", async () => {
    const stream = fx.stream("health");
    const missing = fx.stream("never-written");
    await fx.add(stream, 5);
    const key = fx.keys.key(stream);
    await fx.redis.xgroup("CREATE", key, "reader", "0");
    await fx.redis.xgroup("CREATE", key, "idle", "0");
    const client = fx.newRedis();
    await client.xreadgroup("GROUP", "reader", "r1", "COUNT", 2, "STREAMS", key, ">");
    await new Promise((r) => setTimeout(r, 30));

    const [health, empty] = await readGroupHealth(fx.redis, fx.keys, [stream, missing]);
    const last = await fx.redis.xrevrange(key, "+", "-", "COUNT", 1);
    expect(health).toMatchObject({ stream, length: 5, lastEntryId: last[0]![0] });
    const byName = Object.fromEntries(health!.groups.map((g) => [g.name, g]));
    expect(byName.reader).toMatchObject({ pending: 2, lag: 3, retryScheduled: 0 });
    expect(byName.reader!.consumers).toEqual([
      { name: "r1", pending: 2, idleMs: expect.any(Number) },
    ]);
    expect(byName.reader!.oldestPendingAgeMs).toBeGreaterThanOrEqual(
      byName.reader!.oldestPendingIdleMs!,
    );
    expect(byName.reader!.oldestPendingIdleMs).toBeGreaterThan(0);
    expect(byName.idle).toMatchObject({
      pending: 0,
      lag: 5,
      consumers: [],
      oldestPendingAgeMs: null,
      oldestPendingIdleMs: null,
    });
    expect(empty).toEqual({ stream: missing, length: 0, lastEntryId: null, groups: [] });
  });
});
