import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { makeEnvelope } from "../../src/streams/envelope.js";
import { StreamProducer } from "../../src/streams/producer.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { previousStreamId } from "../../src/subscriptions/stream-id.js";
import { StreamPubSub } from "../../src/subscriptions/stream-pubsub.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";
import { addEvents, cursors, take, waitUntil } from "./helpers.js";

let env: TestEnv;
let producer: StreamProducer;
let pubsub: StreamPubSub;

beforeAll(async () => {
  env = await createTestEnv();
  producer = new StreamProducer(env.redis, env.keys, 100_000);
  // Longer than the test timeout, so a missed wake-up fails the test instead of hiding.
  pubsub = new StreamPubSub({
    redis: env.redis,
    keys: env.keys,
    logger: env.logger,
    blockMs: 120_000,
  });
});

afterAll(async () => {
  await pubsub.close();
  await env.close();
});

/** Client ids of this file's pubsub reader, found by the name it sets with CLIENT SETNAME. */
async function readerIds(): Promise<string[]> {
  const list = String(await env.redis.call("CLIENT", "LIST", "TYPE", "normal"));
  return list
    .split("\n")
    .filter((line) => line.includes(` name=tg-pubsub:${env.prefix}`))
    .map((line) => /^id=(\d+) /.exec(line)![1]!);
}

describe("StreamPubSub reader", () => {
  it("should survive CLIENT KILL of its connection and deliver the events added during the outage", async () => {
    const sub = pubsub.subscribe(STREAMS.escalations);
    await waitUntil(
      () => pubsub.subscriberCount(STREAMS.escalations) === 1,
      "the subscriber is established",
    );
    const [before] = await addEvents(producer, STREAMS.escalations, 1);
    expect(cursors(await take(sub, 1))).toEqual([before]);

    const [killed] = await readerIds();
    expect(killed).toBeDefined();
    await env.redis.call("CLIENT", "KILL", "ID", killed!);
    // Written while the reader is down or reconnecting (ioredis waits before reconnecting).
    const during = await addEvents(producer, STREAMS.escalations, 3);

    expect(cursors(await take(sub, 3))).toEqual(during);
    const [replacement] = await readerIds();
    expect(replacement).toBeDefined();
    expect(replacement).not.toBe(killed);

    const [afterwards] = await addEvents(producer, STREAMS.escalations, 1);
    expect(cursors(await take(sub, 1))).toEqual([afterwards]);
    await sub.return!();
  });

  it("should report entries trimmed while its connection was down as a TRIMMED gap", async () => {
    const stream = STREAMS.trendUpdates;
    const key = env.keys.key(stream);
    const sub = pubsub.subscribe(stream);
    await waitUntil(() => pubsub.subscriberCount(stream) === 1, "the subscriber is established");
    const [seen] = await addEvents(producer, stream, 1, "trend.updated");
    expect(cursors(await take(sub, 1))).toEqual([seen]);

    const [killed] = await readerIds();
    await env.redis.call("CLIENT", "KILL", "ID", killed!);
    // In one transaction, long before ioredis reconnects: five entries, of which the trim keeps two.
    const tx = env.redis.multi();
    for (let i = 0; i < 5; i++)
      tx.xadd(
        key,
        "*",
        "envelope",
        JSON.stringify(makeEnvelope("trend.updated", { traceId: `o-${i}` })),
        "attempt",
        "1",
      );
    tx.xtrim(key, "MAXLEN", 2);
    const ids = ((await tx.exec()) ?? []).slice(0, 5).map(([, id]) => id as string);

    const [gap, ...rest] = await take(sub, 3);
    // Everything between the last entry seen and the first one left is reported.
    expect(gap).toMatchObject({
      kind: "gap",
      reason: "TRIMMED",
      missedFrom: seen,
      missedTo: previousStreamId(ids[3]!),
      cursor: previousStreamId(ids[3]!),
    });
    expect(cursors(rest)).toEqual(ids.slice(3));
    await sub.return!();
  });

  it("should still wake the reader for a new stream after it reconnected", async () => {
    const keep = pubsub.subscribe(STREAMS.resolutions);
    await waitUntil(
      () => pubsub.subscriberCount(STREAMS.resolutions) === 1,
      "the first stream is tailed",
    );
    const [killed] = await readerIds();
    await env.redis.call("CLIENT", "KILL", "ID", killed!);
    await waitUntil(async () => {
      const ids = await readerIds();
      return ids.length === 1 && ids[0] !== killed;
    }, "the reader reconnected");

    // The reader is blocked again on hitl:resolution alone; a new stream needs CLIENT UNBLOCK
    // with the reader's new client id.
    const fresh = pubsub.subscribe(STREAMS.operatorAlerts);
    await waitUntil(
      () => pubsub.subscriberCount(STREAMS.operatorAlerts) === 1,
      "the new stream is established",
    );
    const ids = await addEvents(producer, STREAMS.operatorAlerts, 2, "alert");
    expect(cursors(await take(fresh, 2))).toEqual(ids);
    await keep.return!();
    await fresh.return!();
  });
});
