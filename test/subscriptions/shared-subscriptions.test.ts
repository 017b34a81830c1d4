import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppHarness, collect, eventually, startHarness } from "../support/app-harness.js";

let h: AppHarness;
beforeAll(async () => {
  h = await startHarness({ workers: ["relay"] });
});
afterAll(async () => h?.close());

const UPDATES = `subscription($id: ID) { trendUpdated(id: $id) { trendId to cursor } }`;

describe("shared subscription executions", () => {
  it("should run one execution for identical subscriptions and deliver every event to each subscriber", async () => {
    const subs = Array.from({ length: 5 }, () => collect<{ trendUpdated: { trendId: string; to: string } }>(h.ws(h.keys.viewer), UPDATES));
    const other = collect(h.ws(h.keys.operator), UPDATES);
    await eventually(async () => (h.app.gateway!.sharedSubscriptions.size === 2 ? true : undefined), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const receipts = await h.app.services.ingest.ingestMany([{ source: "s", body: "one" }, { source: "s", body: "two" }], "test");
    for (const sub of [...subs, other]) {
      const got = await sub.take(2, 15_000);
      expect(got.map((g) => (g.data as { trendUpdated: { trendId: string } }).trendUpdated.trendId)).toEqual(receipts.map((r) => r.id));
    }
    // The same result object reached every subscriber of the shared execution.
    expect(subs[0]!.items[0]!.data).toEqual(subs[4]!.items[0]!.data);
    for (const sub of subs) sub.unsubscribe();
    other.unsubscribe();
    await eventually(async () => (h.app.gateway!.sharedSubscriptions.size === 0 ? true : undefined), 10_000);
  });

  it("should not share between different variables or roles that may not subscribe", async () => {
    const a = collect(h.ws(h.keys.viewer), UPDATES, { id: "00000000-0000-4000-8000-000000000001" });
    const b = collect(h.ws(h.keys.viewer), UPDATES, { id: "00000000-0000-4000-8000-000000000002" });
    await eventually(async () => (h.app.gateway!.sharedSubscriptions.size === 2 ? true : undefined), 10_000);
    const denied = collect(h.ws(h.keys.integrator), `subscription { escalationCreated { id } }`);
    await eventually(async () => (denied.items.length ? true : undefined), 10_000);
    expect(denied.items[0]!.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(h.app.gateway!.sharedSubscriptions.size).toBe(2);
    a.unsubscribe();
    b.unsubscribe();
  });
});
