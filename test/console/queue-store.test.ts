import { describe, expect, it } from "vitest";

import { compareStreamIds, type QueueItem, QueueStore } from "../../web/src/state/queue-store.js";

/** The console's queue merge: what makes a replay after reconnect show each escalation once. */
function item(id: string, overrides: Partial<QueueItem> = {}): QueueItem {
  return {
    id,
    trendId: `t-${id}`,
    issueType: "TOXICITY",
    reason: "toxicity 0.9 > 0.8",
    rule: "toxicity_threshold",
    status: "OPEN",
    claimedBy: null,
    claimExpiresAt: null,
    createdAt: `2030-01-01T00:00:0${id.slice(-1)}.000Z`,
    cursor: null,
    resolution: null,
    trend: {
      id: `t-${id}`,
      title: id,
      body: "body",
      source: "forum",
      toxicityScore: 0.9,
      confidence: 0.7,
      status: "ESCALATED",
    },
    ...overrides,
  };
}

const lastPage = { hasNextPage: false, endCursor: null };

describe("QueueStore", () => {
  it("should order stream ids numerically, not as text", () => {
    expect(compareStreamIds("999-0", "1000-0")).toBe(-1);
    expect(compareStreamIds("1000-10", "1000-9")).toBe(1);
    expect(compareStreamIds("1000-1", "1000-1")).toBe(0);
  });

  it("should show an escalation once when the page and a replayed event both carry it", () => {
    const store = new QueueStore();
    store.reset([item("e1"), item("e2")], lastPage, 2);
    store.applyEvent(item("e2"), "100-0", true);
    store.applyEvent(item("e2"), "100-0", true);
    store.applyEvent(item("e3"), "101-0", true);
    expect(store.list().map((i) => i.id)).toEqual(["e1", "e2", "e3"]);
    expect(store.fresh.has("e3")).toBe(true);
  });

  it("should keep the newest claim state whatever order the created and claimed events arrive in", () => {
    const store = new QueueStore();
    store.applyEvent(item("e1", { status: "CLAIMED", claimedBy: "ann" }), "200-0", false);
    store.applyEvent(item("e1"), "150-0", true);
    expect(store.get("e1")).toMatchObject({ status: "CLAIMED", claimedBy: "ann" });
    store.applyEvent(item("e1"), "250-0", false);
    expect(store.get("e1")).toMatchObject({ status: "OPEN", claimedBy: null });
  });

  it("should never bring back an escalation once it was resolved", () => {
    const store = new QueueStore();
    store.reset([item("e1")], lastPage, 1);
    store.markResolved("e1");
    store.applyEvent(item("e1"), "300-0", true);
    store.appendPage([item("e1")], lastPage, 1);
    expect(store.list()).toEqual([]);
    expect(store.isResolved("e1")).toBe(true);
  });

  it("should leave a new escalation to paging while older pages wait, and only count it", () => {
    const store = new QueueStore();
    store.reset([item("e1")], { hasNextPage: true, endCursor: "c1" }, 3000);
    store.applyEvent(item("e9"), "400-0", true);
    expect(store.list().map((i) => i.id)).toEqual(["e1"]);
    expect(store.arrivedBeyondPage).toBe(1);
  });

  it("should drop events that do not match the filter", () => {
    const store = new QueueStore({ issueType: "LOW_CONFIDENCE", source: "" });
    store.applyEvent(item("e1"), "500-0", true);
    store.applyEvent(item("e2", { issueType: "LOW_CONFIDENCE" }), "501-0", true);
    expect(store.list().map((i) => i.id)).toEqual(["e2"]);
  });
});
