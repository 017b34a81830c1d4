import { Writable } from "node:stream";

import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

import { enqueueOutbox } from "../../src/db/outbox.js";
import { type Envelope, makeEnvelope } from "../../src/streams/envelope.js";
import { StreamProducer } from "../../src/streams/producer.js";
import { OutboxRelay } from "../../src/workers/outbox-relay.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";
import { waitFor } from "./support/runtime-fixture.js";
import { TcpProxy } from "./support/tcp-proxy.js";

let env: TestEnv;
const relays: OutboxRelay[] = [];
const leftovers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await Promise.all(relays.map((r) => r.stop()));
  for (const cleanup of leftovers) await cleanup();
  await env.close();
});

function relay(
  producer = new StreamProducer(env.redis, env.keys, 100_000),
  extra: { pollMs?: number; logger?: TestEnv["logger"]; batchSize?: number } = {},
): OutboxRelay {
  const r = new OutboxRelay({
    db: env.db,
    producer,
    pollMs: extra.pollMs ?? 20,
    batchSize: extra.batchSize,
    logger: extra.logger ?? env.logger,
  });
  relays.push(r);
  return r;
}

function envelope(i: number): Envelope {
  return makeEnvelope("test.outbox", { traceId: `trace-${i}`, payload: { i } });
}

async function published(stream: string): Promise<{ envelope: Envelope; attempt: string }[]> {
  const entries = await env.redis.xrange(env.keys.key(stream), "-", "+");
  return entries.map(([, f]) => ({
    envelope: JSON.parse(f[f.indexOf("envelope") + 1]!) as Envelope,
    attempt: f[f.indexOf("attempt") + 1]!,
  }));
}

async function outboxCount(): Promise<number> {
  const row = await env.db
    .selectFrom("outbox")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A pino logger whose lines the test can read. */
function capturingLogger(): { logger: TestEnv["logger"]; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: "debug" }, sink), lines };
}

describe("outbox", () => {
  it("should publish committed rows to their streams in id order", async () => {
    const a = `ordered-a`;
    const b = `ordered-b`;
    const sentA: Envelope[] = [];
    const sentB: Envelope[] = [];
    for (let i = 0; i < 6; i++) {
      const e = envelope(i);
      const stream = i % 3 === 2 ? b : a;
      (stream === a ? sentA : sentB).push(e);
      await env.db.transaction().execute((trx) => enqueueOutbox(trx, stream, e));
    }
    expect(await relay().flush()).toBe(6);
    expect((await published(a)).map((p) => p.envelope)).toEqual(sentA);
    expect((await published(b)).map((p) => p.envelope)).toEqual(sentB);
    expect((await published(a)).every((p) => p.attempt === "1")).toBe(true);
    expect(await outboxCount()).toBe(0);
  });

  it("should publish nothing from a rolled-back transaction", async () => {
    const stream = "rolled-back";
    const failure = env.db.transaction().execute(async (trx) => {
      await enqueueOutbox(trx, stream, envelope(1));
      throw new Error("business rule failed after the enqueue");
    });
    await expect(failure).rejects.toThrow("business rule failed");
    expect(await relay().flush()).toBe(0);
    expect(await env.redis.exists(env.keys.key(stream))).toBe(0);
    expect(await outboxCount()).toBe(0);
  });

  it("should publish the given ids with the older rows of their stream and leave other streams to the poller", async () => {
    const mine = "fast-path";
    const other = "fast-path-other";
    const older = await enqueueOutbox(env.db, mine, envelope(1));
    const unrelated = await enqueueOutbox(env.db, other, envelope(2));
    const newest = await enqueueOutbox(env.db, mine, envelope(3));
    expect(await relay().flush([newest])).toBe(2);
    expect((await published(mine)).map((p) => p.envelope.payload.i)).toEqual([1, 3]);
    expect(await env.redis.exists(env.keys.key(other))).toBe(0);
    const left = await env.db.selectFrom("outbox").select("id").execute();
    expect(left.map((r) => r.id)).toEqual([unrelated]);
    expect(BigInt(older)).toBeLessThan(BigInt(newest));
    expect(await relay().flush()).toBe(1);
  });

  it("should let flushes made while one runs share the next round, and publish every caller's rows", async () => {
    const stream = "shared-rounds";
    const r = relay();
    // Counts the claim-publish-delete transactions (one per round here: 10 rows < batchSize).
    const rounds = vi.spyOn(
      r as unknown as { publishBatch: () => Promise<number> },
      "publishBatch",
    );
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await enqueueOutbox(env.db, stream, envelope(i)));
    const first = r.flush([ids[0]!]);
    const rest = ids.slice(1).map((id) => r.flush([id]));
    const counts = await Promise.all([first, ...rest]);
    // One waiter per call would make ten rounds; calls made before a round starts share it.
    expect(rounds.mock.calls.length).toBeLessThanOrEqual(2);
    expect(counts.every((n) => n >= 1)).toBe(true);
    expect((await published(stream)).map((p) => p.envelope.payload.i)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(await outboxCount()).toBe(0);
    expect(await r.flush([ids[0]!])).toBe(0);
  });

  it("should keep rows while Redis is unreachable and publish them when it is back, logging the outage once", async () => {
    const stream = "outage";
    const url = new URL(env.config.REDIS_URL);
    const proxy = new TcpProxy(url.hostname, Number(url.port || 6379));
    await proxy.open();
    // Fail fast while disconnected instead of queueing commands, as the relay's docs ask.
    const redis = new Redis(proxy.port, "127.0.0.1", {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 20,
    });
    redis.on("error", () => undefined);
    leftovers.push(async () => {
      redis.disconnect();
      await proxy.cut();
    });
    await waitFor("the producer connection", () => redis.status === "ready");
    const { logger, lines } = capturingLogger();
    const r = relay(new StreamProducer(redis, env.keys, 100_000), { pollMs: 10, logger });
    r.start();

    await proxy.cut();
    await waitFor("the producer to notice", () => redis.status !== "ready");
    const sent = [envelope(1), envelope(2), envelope(3)];
    for (const e of sent) await enqueueOutbox(env.db, stream, e);
    await waitFor(
      "several failed polls",
      () => lines.filter((l) => l.msg === "outbox relay still cannot publish").length >= 3,
    );
    expect(await outboxCount()).toBe(3);
    expect(await env.redis.exists(env.keys.key(stream))).toBe(0);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);

    await proxy.open();
    await waitFor("the rows to be published", async () => (await outboxCount()) === 0, 20_000);
    await r.stop();
    expect((await published(stream)).map((p) => p.envelope)).toEqual(sent);
    expect(lines.filter((l) => l.msg === "outbox relay publishing again")).toHaveLength(1);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
  });

  it("should publish each row once when two relays run at the same time", async () => {
    const stream = "two-relays";
    const sent = Array.from({ length: 300 }, (_, i) => envelope(i));
    await env.db.transaction().execute(async (trx) => {
      for (const e of sent) await enqueueOutbox(trx, stream, e);
    });
    const one = relay(undefined, { pollMs: 5, batchSize: 25 });
    const two = relay(undefined, { pollMs: 5, batchSize: 25 });
    one.start();
    two.start();
    await Promise.all([one.flush(), two.flush(), one.flush(), two.flush()]);
    await waitFor("an empty outbox", async () => (await outboxCount()) === 0);
    await Promise.all([one.stop(), two.stop()]);
    const ids = (await published(stream)).map((p) => p.envelope.id);
    expect(ids).toEqual(sent.map((e) => e.id));
  });
});
