import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";

import { type AppHarness, collect, eventually, startHarness } from "../support/app-harness.js";

let h: AppHarness;
beforeAll(async () => {
  h = await startHarness({ workers: ["relay"] });
});
afterAll(async () => h?.close());

/** A socket speaking graphql-transport-ws by hand, to see the frames themselves. */
async function rawSubscriber(
  id: string,
): Promise<{ socket: WebSocket; next: Promise<{ text: string; isBinary: boolean }> }> {
  const socket = new WebSocket(h.wsUrl, "graphql-transport-ws");
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const next = new Promise<{ text: string; isBinary: boolean }>((resolve) => {
    socket.on("message", (data, isBinary) => {
      const text = String(data);
      if (text.includes('"type":"connection_ack"')) {
        socket.send(
          JSON.stringify({ id, type: "subscribe", payload: { query: UPDATES, variables: {} } }),
        );
      } else if (text.includes('"type":"next"')) resolve({ text, isBinary });
    });
  });
  socket.send(
    JSON.stringify({
      type: "connection_init",
      payload: { authorization: `Bearer ${h.keys.viewer}` },
    }),
  );
  return { socket, next };
}

const UPDATES = `subscription($id: ID, $after: String) { trendUpdated(id: $id, after: $after) { trendId to cursor } }`;
type Update = { trendUpdated: { trendId: string; to: string; cursor: string } };

describe("shared subscription executions", () => {
  it("should execute each live event once per role and document, and deliver it to every subscriber", async () => {
    const viewers = Array.from({ length: 5 }, () => collect<Update>(h.ws(h.keys.viewer), UPDATES));
    const operator = collect<Update>(h.ws(h.keys.operator), UPDATES);
    await new Promise((r) => setTimeout(r, 500));
    const before = h.app.gateway!.sharedSubscriptions.executionCount;
    const serializedBefore = h.app.gateway!.sharedPayloads.serializations;
    const receipts = await h.app.services.ingest.ingestMany(
      [
        { source: "s", body: "one" },
        { source: "s", body: "two" },
      ],
      "test",
    );
    for (const sub of [...viewers, operator]) {
      const got = await sub.take(2, 15_000);
      expect(got.map((g) => g.data!.trendUpdated.trendId)).toEqual(receipts.map((r) => r.id));
    }
    // Two events, two roles: four executions for six subscribers.
    expect(h.app.gateway!.sharedSubscriptions.executionCount - before).toBe(4);
    // And each of those results was serialized once, not once per socket.
    expect(h.app.gateway!.sharedPayloads.serializations - serializedBefore).toBe(4);
    for (const sub of [...viewers, operator]) sub.unsubscribe();
  });

  it("should give every subscriber resuming from the same cursor all the events it missed", async () => {
    const first = collect<Update>(h.ws(h.keys.viewer), UPDATES);
    await new Promise((r) => setTimeout(r, 300));
    await h.app.services.ingest.ingest({ source: "s", body: "anchor" }, "test");
    const [anchor] = await first.take(1, 15_000);
    first.unsubscribe();
    const missed = await h.app.services.ingest.ingestMany(
      Array.from({ length: 4 }, (_, i) => ({ source: "s", body: `missed ${i}` })),
      "test",
    );
    const resumed = Array.from({ length: 6 }, () =>
      collect<Update>(h.ws(h.keys.viewer), UPDATES, { after: anchor!.data!.trendUpdated.cursor }),
    );
    for (const sub of resumed) {
      const got = await sub.take(4, 15_000);
      expect(got.map((g) => g.data!.trendUpdated.trendId)).toEqual(missed.map((r) => r.id));
    }
    for (const sub of resumed) sub.unsubscribe();
  });

  it("should send each socket a text frame that is the graphql-ws message for its own subscription id", async () => {
    const sockets = await Promise.all(["first-op", "second-op"].map((id) => rawSubscriber(id)));
    await new Promise((r) => setTimeout(r, 300));
    const receipt = await h.app.services.ingest.ingest({ source: "s", body: "raw frames" }, "test");
    const frames = await Promise.all(sockets.map((s) => s.next));
    for (const [i, frame] of frames.entries()) {
      expect(frame.isBinary).toBe(false);
      const message = JSON.parse(frame.text) as {
        id: string;
        type: string;
        payload: { data: Update };
      };
      expect(Object.keys(message)).toEqual(["id", "type", "payload"]);
      expect(message).toMatchObject({ id: ["first-op", "second-op"][i], type: "next" });
      expect(message.payload.data.trendUpdated.trendId).toBe(receipt.id);
    }
    // Same payload bytes for both sockets: only the id differs.
    expect(frames[0]!.text.replace('"first-op"', '"X"')).toBe(
      frames[1]!.text.replace('"second-op"', '"X"'),
    );
    for (const s of sockets) s.socket.close();
  });

  it("should deliver each event once and in order to live and resuming subscribers, written ahead or not", async () => {
    const pubsub = h.app.services.pubsub;
    const payloads = h.app.gateway!.sharedPayloads;
    const ingest = (n: number, label: string) =>
      h.app.services.ingest.ingestMany(
        Array.from({ length: n }, (_, i) => ({ source: "s", body: `${label} ${i}` })),
        "test",
      );
    const ids = (sub: { items: { data?: Update }[] }) =>
      sub.items.map((g) => g.data!.trendUpdated.trendId);
    // Earlier tests' subscribers leave asynchronously: start from none, to count these.
    await eventually(async () => (pubsub.subscriberCount() === 0 ? true : undefined), 10_000);
    const base = 0;
    const first = collect<Update>(h.ws(h.keys.viewer), UPDATES);
    await eventually(async () => (pubsub.subscriberCount() > base ? true : undefined), 10_000);
    await h.app.services.ingest.ingest({ source: "s", body: "ahead anchor" }, "test");
    const [anchor] = await first.take(1, 15_000);
    const history = await ingest(3, "history");
    // Published (the relay runs apart from ingest) before the live subscribers come.
    await first.take(1 + history.length, 15_000);
    const live = Array.from({ length: 4 }, () => collect<Update>(h.ws(h.keys.viewer), UPDATES));
    // These replay the history from Redis while the burst below arrives live.
    const resuming = Array.from({ length: 3 }, () =>
      collect<Update>(h.ws(h.keys.viewer), UPDATES, {
        after: anchor!.data!.trendUpdated.cursor,
      }),
    );
    await eventually(async () => (pubsub.subscriberCount() >= base + 8 ? true : undefined), 10_000);
    const aheadBefore = payloads.writesAhead;
    // A burst, so live subscribers also have events queued behind the one being sent; the
    // marker comes last, so a duplicate or a reordering would show before it.
    const burst = [...(await ingest(6, "burst")), ...(await ingest(1, "marker"))];
    const burstIds = burst.map((r) => r.id);
    const historyIds = history.map((r) => r.id);
    for (const sub of live) {
      await sub.take(burstIds.length, 15_000);
      expect(ids(sub)).toEqual(burstIds);
    }
    for (const sub of resuming) {
      await sub.take(historyIds.length + burstIds.length, 15_000);
      expect(ids(sub)).toEqual([...historyIds, ...burstIds]);
    }
    await first.take(1 + historyIds.length + burstIds.length, 15_000);
    expect(ids(first).slice(1)).toEqual([...historyIds, ...burstIds]);
    // The path under test was taken: some of those messages went out ahead of graphql-ws.
    expect(payloads.writesAhead - aheadBefore).toBeGreaterThan(0);
    for (const sub of [first, ...live, ...resuming]) sub.unsubscribe();
  });

  it("should still check each subscriber's role", async () => {
    const denied = collect(h.ws(h.keys.integrator), `subscription { escalationCreated { id } }`);
    await eventually(async () => (denied.items.length ? true : undefined), 10_000);
    expect(denied.items[0]!.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
