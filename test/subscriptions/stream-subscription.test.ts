import { describe, expect, it } from "vitest";

import { makeEnvelope } from "../../src/streams/envelope.js";
import type { StreamEvent } from "../../src/subscriptions/stream-event.js";
import {
  compareStreamIds,
  normalizeStreamId,
  previousStreamId,
} from "../../src/subscriptions/stream-id.js";
import { StreamSubscription } from "../../src/subscriptions/stream-subscription.js";
import { cursors, take } from "./helpers.js";

// The seam and buffer rules without Redis, where each interleaving can be forced.

const event = (cursor: string, trendId = "t"): StreamEvent =>
  Object.freeze({
    kind: "event",
    stream: "s",
    cursor,
    envelope: makeEnvelope("x", { traceId: "tr", trendId }),
  });

function subscription(
  replaying: boolean,
  bufferSize = 100,
  filter?: (e: StreamEvent & { kind: "event" }) => boolean,
) {
  const detached: StreamSubscription[] = [];
  const s = new StreamSubscription("s", replaying, {
    bufferSize,
    filter:
      filter && ((envelope) => filter({ kind: "event", stream: "s", cursor: "0-0", envelope })),
    onDetach: (x) => detached.push(x),
  });
  return { s, detached };
}

describe("StreamSubscription", () => {
  it("should deliver live events held during replay that the replay did not cover, once each", async () => {
    const { s } = subscription(true);
    s.pushReplay(event("1-0"));
    s.pushLive(event("2-0")); // read by the reader while the replay's last page was in flight
    s.pushReplay(event("2-0"));
    s.pushLive(event("3-0")); // added after that page was read
    s.goLive("2-0");
    s.pushLive(event("4-0"));
    expect(cursors(await take(s, 4))).toEqual(["1-0", "2-0", "3-0", "4-0"]);
  });

  it("should flag dropped live events during replay so the replay reads on", () => {
    const { s } = subscription(true, 2);
    s.pushLive(event("1-0"));
    s.pushLive(event("2-0"));
    expect(s.liveDropped).toBe(false);
    s.pushLive(event("3-0"));
    expect(s.liveDropped).toBe(true);
  });

  it("should end with an OVERFLOW gap resuming at the last delivered cursor", async () => {
    const { s, detached } = subscription(false, 2);
    s.resumeFrom = "0-5";
    s.pushLive(event("1-0"));
    await take(s, 1);
    s.pushLive(event("2-0"));
    s.pushLive(event("3-0"));
    s.pushLive(event("4-0"));
    s.pushLive(event("5-0")); // ignored: the subscription has already given up
    const [gap] = await take(s, 1);
    expect(gap).toMatchObject({
      kind: "gap",
      reason: "OVERFLOW",
      cursor: "1-0",
      missedFrom: "1-0",
      missedTo: "4-0",
    });
    expect(detached).toEqual([s]);
    expect(await s.next()).toEqual({ value: undefined, done: true });
  });

  it("should reject next() with the filter's error and detach when the filter throws", async () => {
    const boom = Object.assign(new Error("bad filter"), { code: "BAD_FILTER" });
    const { s, detached } = subscription(false, 10, () => {
      throw boom;
    });
    const pending = s.next();
    s.pushLive(event("1-0"));
    await expect(pending).rejects.toBe(boom);
    expect(detached).toEqual([s]);
    expect(await s.next()).toEqual({ value: undefined, done: true });
  });

  it("should end a pending next() at once on return()", async () => {
    const { s, detached } = subscription(false);
    const pending = s.next();
    await s.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(detached).toEqual([s]);
  });
});

describe("stream ids", () => {
  it("should normalize cursors and reject what is not an id", () => {
    expect(normalizeStreamId("1700000000000")).toBe("1700000000000-0");
    expect(normalizeStreamId("1700000000000-12")).toBe("1700000000000-12");
    for (const bad of ["", "$", "-", "1-", "01-0", "1-2-3", "abc", "99999999999999999999-0"]) {
      expect(normalizeStreamId(bad)).toBeUndefined();
    }
  });

  it("should order ids numerically, not as text", () => {
    expect(compareStreamIds("9-0", "10-0")).toBeLessThan(0);
    expect(compareStreamIds("10-2", "10-10")).toBeLessThan(0);
    expect(compareStreamIds("10-10", "10-10")).toBe(0);
    expect(compareStreamIds("11-0", "10-99")).toBeGreaterThan(0);
  });

  it("should step back across a millisecond boundary", () => {
    expect(previousStreamId("10-5")).toBe("10-4");
    expect(previousStreamId("10-0")).toBe("9-18446744073709551615");
    expect(previousStreamId("0-0")).toBe("0-0");
  });
});
