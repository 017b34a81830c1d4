import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppHarness, collect, eventually, startHarness } from "../support/app-harness.js";

let h: AppHarness;
beforeAll(async () => {
  h = await startHarness({ workers: ["relay"] });
});
afterAll(async () => h?.close());

const UPDATES = `subscription($id: ID, $after: String) { trendUpdated(id: $id, after: $after) { trendId to cursor } }`;
type Update = { trendUpdated: { trendId: string; to: string; cursor: string } };

describe("shared subscription executions", () => {
  it("should execute each live event once per role and document, and deliver it to every subscriber", async () => {
    const viewers = Array.from({ length: 5 }, () => collect<Update>(h.ws(h.keys.viewer), UPDATES));
    const operator = collect<Update>(h.ws(h.keys.operator), UPDATES);
    await new Promise((r) => setTimeout(r, 500));
    const before = h.app.gateway!.sharedSubscriptions.executionCount;
    const receipts = await h.app.services.ingest.ingestMany([{ source: "s", body: "one" }, { source: "s", body: "two" }], "test");
    for (const sub of [...viewers, operator]) {
      const got = await sub.take(2, 15_000);
      expect(got.map((g) => g.data!.trendUpdated.trendId)).toEqual(receipts.map((r) => r.id));
    }
    // Two events, two roles: four executions for six subscribers.
    expect(h.app.gateway!.sharedSubscriptions.executionCount - before).toBe(4);
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
    const resumed = Array.from({ length: 6 }, () => collect<Update>(h.ws(h.keys.viewer), UPDATES, { after: anchor!.data!.trendUpdated.cursor }));
    for (const sub of resumed) {
      const got = await sub.take(4, 15_000);
      expect(got.map((g) => g.data!.trendUpdated.trendId)).toEqual(missed.map((r) => r.id));
    }
    for (const sub of resumed) sub.unsubscribe();
  });

  it("should still check each subscriber's role", async () => {
    const denied = collect(h.ws(h.keys.integrator), `subscription { escalationCreated { id } }`);
    await eventually(async () => (denied.items.length ? true : undefined), 10_000);
    expect(denied.items[0]!.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
