import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { IngestService } from "../../src/pipeline/ingest/ingest-service.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
let ingest: IngestService;
beforeAll(async () => {
  env = await createTestEnv();
  ingest = new IngestService({
    db: env.db,
    redis: env.redis,
    keys: env.keys,
    logger: env.logger,
    limits: { bodyMaxChars: 10_000, maxBatch: 100, highWaterMark: 10_000, defaultBudget: 100 },
  });
});
afterAll(() => env?.close());

describe("ingest batch", () => {
  it("should write each new trend once with its provenance and two events in order, and answer duplicates with the first trend", async () => {
    const [earlier] = await ingest.ingestMany(
      [{ source: "wire", externalId: "old", body: "Posted before." }],
      "test",
    );
    const receipts = await ingest.ingestMany(
      [
        { source: "wire", externalId: "a", body: "First." },
        { source: "wire", externalId: "old", body: "Posted again." },
        { source: "wire", externalId: "a", body: "First, twice in one batch." },
        { source: "wire", body: "No external id." },
      ],
      "test",
    );
    expect(receipts.map((r) => r.duplicate)).toEqual([false, true, true, false]);
    expect(receipts[1]!.id).toBe(earlier!.id);
    expect(receipts[2]!.id).toBe(receipts[0]!.id);
    expect(receipts[2]!.traceId).toBe(receipts[0]!.traceId);

    const fresh = [receipts[0]!, receipts[3]!];
    for (const r of fresh) {
      const log = await env.db
        .selectFrom("provenance_log")
        .select(["step", "parent_id", "trace_id"])
        .where("trend_id", "=", r.id)
        .execute();
      expect(log).toEqual([{ step: "ingest", parent_id: null, trace_id: r.traceId }]);
    }
    const events = await env.db
      .selectFrom("outbox")
      .select(["stream", "payload"])
      .orderBy("id")
      .execute();
    const mine = events.filter((e) =>
      fresh.some((r) => (e.payload as { trendId?: string }).trendId === r.id),
    );
    expect(mine.map((e) => [e.stream, (e.payload as { trendId: string }).trendId])).toEqual([
      ["trend:ingest:stream", fresh[0]!.id],
      ["trend:updates", fresh[0]!.id],
      ["trend:ingest:stream", fresh[1]!.id],
      ["trend:updates", fresh[1]!.id],
    ]);
    const update = mine[1]!.payload as { payload: Record<string, unknown> };
    expect(update.payload).toMatchObject({
      from: null,
      to: "RECEIVED",
      embeddingStatus: "PENDING",
      reason: "ingested",
      actor: "test",
    });
    // Nothing at all for the duplicates.
    expect(
      await env.db
        .selectFrom("enriched_trends")
        .select("id")
        .where("source", "=", "wire")
        .execute(),
    ).toHaveLength(3);
  });
});
