import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { makeEnvelope } from "../../src/streams/envelope.js";
import { StreamProducer } from "../../src/streams/producer.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { InvalidCursorError } from "../../src/subscriptions/invalid-cursor-error.js";
import { PubSubClosedError } from "../../src/subscriptions/pubsub-closed-error.js";
import type { StreamEvent } from "../../src/subscriptions/stream-event.js";
import { previousStreamId } from "../../src/subscriptions/stream-id.js";
import { StreamPubSub } from "../../src/subscriptions/stream-pubsub.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";
import { addEvents, cursors, take, waitUntil } from "./helpers.js";

let env: TestEnv;
let producer: StreamProducer;
let pubsub: StreamPubSub;
const extra: StreamPubSub[] = [];

// A block time longer than the test timeout: any test that needs the reader to pick up a new
// stream only passes if CLIENT UNBLOCK woke it.
const BLOCK_MS = 120_000;

function newPubSub(redis = env.redis, readCount?: number): StreamPubSub {
  const p = new StreamPubSub({
    redis,
    keys: env.keys,
    logger: env.logger,
    blockMs: BLOCK_MS,
    readCount,
  });
  extra.push(p);
  return p;
}

beforeAll(async () => {
  env = await createTestEnv();
  producer = new StreamProducer(env.redis, env.keys, 100_000);
  pubsub = newPubSub();
});

afterAll(async () => {
  await Promise.all(extra.map((p) => p.close()));
  await env.close();
});

function eventOf(e: StreamEvent | undefined) {
  if (e?.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(e)}`);
  return e;
}

function gapOf(e: StreamEvent | undefined) {
  if (e?.kind !== "gap") throw new Error(`expected a gap, got ${JSON.stringify(e)}`);
  return e;
}

describe("StreamPubSub", () => {
  it("should deliver new events live, sharing one event object between subscribers", async () => {
    const a = pubsub.subscribe(STREAMS.escalations);
    const b = pubsub.subscribe(STREAMS.escalations);
    const envelope = makeEnvelope("escalation.created", {
      traceId: "tr-1",
      trendId: "trend-1",
      payload: { x: 1 },
    });
    const id = await producer.add(STREAMS.escalations, envelope);
    const [fromA] = await take(a, 1);
    const [fromB] = await take(b, 1);
    expect(eventOf(fromA)).toEqual({
      kind: "event",
      stream: STREAMS.escalations,
      cursor: id,
      envelope,
    });
    expect(fromB).toBe(fromA);
    expect(Object.isFrozen(fromA)).toBe(true);
    await a.return!();
    await b.return!();
    expect(pubsub.subscriberCount(STREAMS.escalations)).toBe(0);
  });

  it("should wake the blocked reader when a second stream gains a subscriber", async () => {
    const first = pubsub.subscribe(STREAMS.operatorAlerts);
    await addEvents(producer, STREAMS.operatorAlerts, 1, "alert");
    await take(first, 1); // the reader is now blocked on operator:alerts alone
    const second = pubsub.subscribe(STREAMS.trendUpdates);
    const [id] = await addEvents(producer, STREAMS.trendUpdates, 1, "trend.updated");
    expect(cursors(await take(second, 1))).toEqual([id]);
    expect(pubsub.subscriberCount()).toBe(2);
    await first.return!();
    await second.return!();
  });

  it("should only deliver envelopes the subscriber's filter accepts", async () => {
    const sub = pubsub.subscribe(STREAMS.trendUpdates, { filter: (e) => e.trendId === "wanted" });
    const ids: string[] = [];
    for (const trendId of ["other", "wanted", "other", "wanted"]) {
      ids.push(
        await producer.add(
          STREAMS.trendUpdates,
          makeEnvelope("trend.updated", { traceId: "t", trendId }),
        ),
      );
    }
    const got = await take(sub, 2);
    expect(cursors(got)).toEqual([ids[1], ids[3]]);
    expect(got.map((e) => eventOf(e).envelope.trendId)).toEqual(["wanted", "wanted"]);
    await sub.return!();
  });

  it("should resume after a disconnect with exactly the missed events, then go live", async () => {
    const stream = STREAMS.resolutions;
    const first = pubsub.subscribe(stream);
    const [seen] = await addEvents(producer, stream, 1);
    expect(cursors(await take(first, 1))).toEqual([seen]);
    await first.return!();
    expect(await first.next()).toEqual({ value: undefined, done: true });

    const missed = await addEvents(producer, stream, 3);
    const resumed = pubsub.subscribe(stream, { after: seen });
    expect(cursors(await take(resumed, 3))).toEqual(missed);
    const [live] = await addEvents(producer, stream, 1);
    expect(cursors(await take(resumed, 1))).toEqual([live]);
    await resumed.return!();
  });

  it("should neither skip nor repeat an entry at the replay/live seam under a concurrent writer", async () => {
    const stream = "seam:test";
    // Small pages so each replay takes several round trips while the writer keeps adding.
    const local = newPubSub(env.redis, 16);
    const watcher = local.subscribe(stream); // keeps the stream tailed by the reader throughout
    const writer = new StreamProducer(env.newRedis(), env.keys, 100_000);
    const [firstId] = await addEvents(writer, stream, 1);
    const written: string[] = [];
    const writing = (async () => {
      for (let i = 0; i < 200; i++) written.push(...(await addEvents(writer, stream, 1)));
    })();
    // Joiners at several points of the write, each consuming while the writer goes on, so the
    // switch from replay to live happens with entries arriving on both sides of it.
    const joiners = [20, 80, 140].map(async (at) => {
      await waitUntil(() => written.length >= at, `${at} events are written`);
      const joiner = local.subscribe(stream, { after: firstId });
      return { joiner, got: await take(joiner, 200) };
    });
    await writing;
    const [after] = await addEvents(writer, stream, 1);
    for (const { joiner, got } of await Promise.all(joiners)) {
      expect(cursors(got)).toEqual(written);
      expect(cursors(await take(joiner, 1))).toEqual([after]);
      await joiner.return!();
    }
    await watcher.return!();
  });

  it("should report trimmed history as a TRIMMED gap and then deliver what remains", async () => {
    const stream = "trim:test";
    const ids = await addEvents(producer, stream, 10);
    await env.redis.xtrim(env.keys.key(stream), "MAXLEN", 5); // drops ids[0..4]
    const sub = pubsub.subscribe(stream, { after: ids[1] });
    const [first, ...rest] = await take(sub, 6);
    const gap = gapOf(first);
    expect(gap).toMatchObject({
      reason: "TRIMMED",
      missedFrom: ids[1],
      // Up to just before the first entry left: the lost ids are known only as a range.
      missedTo: previousStreamId(ids[5]!),
      cursor: previousStreamId(ids[5]!),
    });
    expect(gap.message).toContain(ids[1]);
    expect(cursors(rest)).toEqual(ids.slice(5));
    await sub.return!();
  });

  it("should replace a slow subscriber's backlog with one OVERFLOW gap whose cursor resumes it", async () => {
    const stream = "overflow:test";
    const slow = pubsub.subscribe(stream, { bufferSize: 5 });
    const early = await addEvents(producer, stream, 2);
    expect(cursors(await take(slow, 2))).toEqual(early);
    const later = await addEvents(producer, stream, 20);
    // The overflow detaches the subscriber; that is the moment its backlog is gone.
    await waitUntil(() => pubsub.subscriberCount(stream) === 0, "the slow subscriber overflows");
    const gap = gapOf((await slow.next()).value as StreamEvent);
    expect(gap).toMatchObject({ reason: "OVERFLOW", cursor: early[1], missedFrom: early[1] });
    expect(later).toContain(gap.missedTo);
    expect(await slow.next()).toEqual({ value: undefined, done: true });

    const resumed = pubsub.subscribe(stream, { after: gap.cursor });
    expect(cursors(await take(resumed, 20))).toEqual(later);
    await resumed.return!();
  });

  it("should deliver every event to subscribers of two pubsub instances", async () => {
    const stream = "two:test";
    const other = newPubSub(env.newRedis());
    const a = pubsub.subscribe(stream);
    const b = other.subscribe(stream);
    await waitUntil(
      () => pubsub.subscriberCount(stream) === 1 && other.subscriberCount(stream) === 1,
      "both subscribed",
    );
    const ids = await addEvents(producer, stream, 3);
    expect(cursors(await take(a, 3))).toEqual(ids);
    expect(cursors(await take(b, 3))).toEqual(ids);
    await a.return!();
    await b.return!();
  });

  it("should reject a cursor that is not a stream id with InvalidCursorError", () => {
    let error: unknown;
    try {
      pubsub.subscribe(STREAMS.escalations, { after: "yesterday" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidCursorError);
    expect(error).toMatchObject({
      code: "BAD_USER_INPUT",
      cursor: "yesterday",
      data: { field: "after", reason: "INVALID_CURSOR" },
    });
  });

  it("should end every iterator and close its reader connection on close()", async () => {
    const local = newPubSub(env.newRedis());
    const a = local.subscribe("close:a");
    const b = local.subscribe("close:b", { after: "0-0" });
    await waitUntil(() => local.subscriberCount() === 2, "both are established");
    await addEvents(producer, "close:a", 1);
    await take(a, 1);
    const pendingA = a.next();
    const readerName = `tg-pubsub:${env.prefix}`;
    const readers = async () =>
      String(await env.redis.call("CLIENT", "LIST"))
        .split("\n")
        .filter((l) => l.includes(` name=${readerName}`)).length;
    const before = await readers();
    await local.close();
    expect(await pendingA).toEqual({ value: undefined, done: true });
    expect(await b.next()).toEqual({ value: undefined, done: true });
    expect(local.subscriberCount()).toBe(0);
    await waitUntil(async () => (await readers()) === before - 1, "the reader connection is gone");
    expect(() => local.subscribe("close:a")).toThrow(PubSubClosedError);
    expect(() => local.subscribe("close:a")).toThrow(
      expect.objectContaining({ code: "UNAVAILABLE", data: { reason: "PUBSUB_CLOSED" } }),
    );
  });
});
