import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { DomainError } from "../../src/domain/domain-error.js";
import { IngestService } from "../../src/pipeline/ingest/ingest-service.js";
import { GROUPS, StreamKeys, STREAMS } from "../../src/streams/stream-names.js";
import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";

const INGEST = /* GraphQL */ `
  mutation Ingest($input: TrendInput!) {
    ingestTrend(input: $input) {
      id
      traceId
      status
      duplicate
    }
  }
`;

const TREND = /* GraphQL */ `
  query Trend($id: ID!) {
    trend(id: $id) {
      id
      traceId
      status
      language
      topics
      toxicityScore
      confidence
      summary
      sentiment {
        score
        label
      }
      budget {
        limit
        spent
      }
      plan {
        intent
        budget
      }
    }
  }
`;

let h: AppHarness;
beforeAll(async () => {
  // ETL and the outbox relay only: the item stops at ENRICHED, which is what this file checks.
  h = await startHarness({ workers: ["etl", "relay"] });
});
afterAll(async () => h?.close());

async function outboxRows(): Promise<number> {
  const row = await h.env.db
    .selectFrom("outbox")
    .select(sql<number>`count(*)::int`.as("n"))
    .where("stream", "=", STREAMS.ingest)
    .executeTakeFirst();
  return row?.n ?? 0;
}

async function countTrends(): Promise<number> {
  const row = await h.env.db
    .selectFrom("enriched_trends")
    .select(sql<number>`count(*)::int`.as("n"))
    .executeTakeFirst();
  return row?.n ?? 0;
}

describe("ingest → plan → enrich", () => {
  it("should enrich an ingested item and record planner and ETL provenance under one trace", async () => {
    const res = await h.gql<{
      ingestTrend: { id: string; traceId: string; status: string; duplicate: boolean };
    }>(
      INGEST,
      {
        input: {
          source: "newswire",
          externalId: "n-1",
          title: "Central bank holds interest rates steady",
          body: "<p>The central bank kept its benchmark interest rate unchanged on Tuesday, citing easing inflation and a resilient labour market. Analysts expect a cut later this year.</p>",
          url: "https://example.com/rates",
        },
      },
      h.keys.integrator,
    );
    expect(res.errors).toBeUndefined();
    const receipt = res.data!.ingestTrend;
    expect(receipt.status).toBe("RECEIVED");
    expect(receipt.duplicate).toBe(false);
    expect(receipt.traceId).toMatch(/^[0-9a-f]{32}$/);

    const trend = await eventually(async () => {
      const r = await h.gql<{ trend: Record<string, unknown> }>(
        TREND,
        { id: receipt.id },
        h.keys.viewer,
      );
      return r.data?.trend.status === "ENRICHED" ? r.data.trend : undefined;
    });
    expect(trend.language).toBe("en");
    expect((trend.topics as string[]).length).toBeGreaterThan(0);
    expect(typeof trend.toxicityScore).toBe("number");
    expect(trend.toxicityScore as number).toBeLessThan(0.5);
    expect(trend.confidence as number).toBeGreaterThan(0);
    expect(trend.summary as string).toContain("central bank");
    expect((trend.sentiment as { label: string }).label).toMatch(/positive|negative|neutral/);
    expect((trend.plan as { intent: string }).intent).toContain("newswire");
    expect((trend.budget as { spent: number }).spent).toBeGreaterThan(0);

    const prov = await h.gql<{
      provenance: { entries: { step: string; traceId: string }[]; edges: { kind: string }[] };
    }>(
      `query($id: ID!) { provenance(trendId: $id) { entries { id step traceId actor } edges { from to kind } } }`,
      { id: receipt.id },
      h.keys.viewer,
    );
    const steps = prov.data!.provenance.entries.map((e) => e.step);
    expect(steps).toEqual(["ingest", "plan", "etl"]);
    expect(new Set(prov.data!.provenance.entries.map((e) => e.traceId))).toEqual(
      new Set([receipt.traceId]),
    );
    expect(prov.data!.provenance.edges).toHaveLength(2);
  });

  it("should return the same trend for the same source and externalId, also when posted concurrently", async () => {
    const input = {
      source: "blog",
      externalId: "dup-1",
      body: "A post about the new phone release.",
    };
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        h.gql<{ ingestTrend: { id: string; duplicate: boolean } }>(
          INGEST,
          { input },
          h.keys.integrator,
        ),
      ),
    );
    const ids = new Set(results.map((r) => r.data!.ingestTrend.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.data!.ingestTrend.duplicate)).toHaveLength(1);
    const rows = await h.env.db
      .selectFrom("enriched_trends")
      .select("id")
      .where("source", "=", "blog")
      .where("external_id", "=", "dup-1")
      .execute();
    expect(rows).toHaveLength(1);
  });

  it("should ingest a batch in one call and refuse the whole batch when one item is bad", async () => {
    const before = await countTrends();
    const bad = await h.gql(
      `mutation($inputs: [TrendInput!]!) { ingestTrends(inputs: $inputs) { id } }`,
      {
        inputs: [
          { source: "a", body: "fine" },
          { source: "a", body: "fine too", url: "not a url" },
        ],
      },
      h.keys.integrator,
    );
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(bad.errors?.[0]?.extensions?.field).toBe("inputs[1].url");
    expect(await countTrends()).toBe(before);

    const ok = await h.gql<{ ingestTrends: { id: string }[] }>(
      `mutation($inputs: [TrendInput!]!) { ingestTrends(inputs: $inputs) { id status } }`,
      {
        inputs: [
          { source: "a", body: "first of two" },
          { source: "a", body: "second of two" },
        ],
      },
      h.keys.integrator,
    );
    expect(ok.data?.ingestTrends).toHaveLength(2);
    expect(await countTrends()).toBe(before + 2);
  });

  it.each([
    ["missing body", { source: "s", body: "" }, "input.body"],
    ["blank source", { source: "  ", body: "text" }, "input.source"],
    ["malformed url", { source: "s", body: "text", url: "ftp://x" }, "input.url"],
    ["oversized title", { source: "s", body: "text", title: "t".repeat(501) }, "input.title"],
    ["oversized body", { source: "s", body: "b".repeat(50_001) }, "input.body"],
    ["metadata not an object", { source: "s", body: "text", metadata: [1, 2] }, "input.metadata"],
  ])(
    "should refuse %s with BAD_USER_INPUT naming the field and write nothing",
    async (_name, input, field) => {
      const before = await countTrends();
      // Let the relay finish publishing earlier tests' items, so the stream length is stable.
      await eventually(async () => ((await outboxRows()) === 0 ? true : undefined));
      const streamBefore = await h.env.redis.xlen(h.env.keys.key(STREAMS.ingest));
      const res = await h.gql(INGEST, { input }, h.keys.integrator);
      expect(res.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(res.errors?.[0]?.extensions?.field).toBe(field);
      expect(res.errors?.[0]?.message).toContain(field);
      expect(await countTrends()).toBe(before);
      expect(await outboxRows()).toBe(0);
      expect(await h.env.redis.xlen(h.env.keys.key(STREAMS.ingest))).toBe(streamBefore);
    },
  );

  it("should refuse a missing required field at the GraphQL layer with BAD_USER_INPUT", async () => {
    const res = await h.gql(INGEST, { input: { source: "s" } }, h.keys.integrator);
    expect(res.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(res.errors?.[0]?.message).toContain("body");
  });

  it("should answer NOT_FOUND for an unknown trend and BAD_USER_INPUT for a malformed id", async () => {
    const missing = await h.gql(
      TREND,
      { id: "00000000-0000-4000-8000-000000000000" },
      h.keys.viewer,
    );
    expect(missing.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const malformed = await h.gql(TREND, { id: "nope" }, h.keys.viewer);
    expect(malformed.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("should page through trends with a cursor and filter by source and status", async () => {
    for (let i = 0; i < 5; i++) {
      await h.gql(
        INGEST,
        {
          input: {
            source: "pager",
            externalId: `p-${i}`,
            body: `Item number ${i} about football results.`,
          },
        },
        h.keys.integrator,
      );
    }
    const page = (after?: string) =>
      h.gql<{
        trends: {
          edges: { cursor: string; node: { externalId: string } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string };
        };
      }>(
        `query($after: String) { trends(filter: { source: "pager" }, first: 2, after: $after) { edges { cursor node { externalId } } pageInfo { hasNextPage endCursor } } }`,
        { after },
        h.keys.viewer,
      );
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const r = await page(after);
      seen.push(...r.data!.trends.edges.map((e) => e.node.externalId));
      if (!r.data!.trends.pageInfo.hasNextPage) break;
      after = r.data!.trends.pageInfo.endCursor;
    }
    expect(seen).toEqual(["p-4", "p-3", "p-2", "p-1", "p-0"]);
    const enriched = await eventually(async () => {
      const r = await h.gql<{ trends: { edges: unknown[] } }>(
        `{ trends(filter: { source: "pager", status: [ENRICHED] }, first: 10) { edges { node { id } } } }`,
        {},
        h.keys.viewer,
      );
      return r.data!.trends.edges.length === 5 ? r : undefined;
    });
    expect(enriched.data!.trends.edges).toHaveLength(5);
  });

  it("should refuse with a retryable BACKPRESSURE error when the ETL backlog is over the high-water mark", async () => {
    // A second ingest service on a private prefix whose ETL group has 3 unread entries.
    const keys = new StreamKeys(`${h.env.prefix}bp:`);
    const stream = keys.key(STREAMS.ingest);
    await h.env.redis.xgroup("CREATE", stream, GROUPS.etl, "0", "MKSTREAM");
    for (let i = 0; i < 3; i++)
      await h.env.redis.xadd(stream, "*", "envelope", "{}", "attempt", "1");
    const service = new IngestService({
      db: h.env.db,
      redis: h.env.redis,
      keys,
      logger: h.env.logger,
      limits: { bodyMaxChars: 1000, maxBatch: 10, highWaterMark: 3, defaultBudget: 10 },
    });
    const error = await service
      .ingest({ source: "bp", body: "one too many" }, "test")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe("BACKPRESSURE");
    expect((error as DomainError).retryable).toBe(true);
    const rows = await h.env.db
      .selectFrom("enriched_trends")
      .select("id")
      .where("source", "=", "bp")
      .execute();
    expect(rows).toHaveLength(0);
  });

  it("should refuse with BACKPRESSURE naming the stage when a later stage (judge) is over its high-water mark", async () => {
    const keys = new StreamKeys(`${h.env.prefix}bp-judge:`);
    const stream = keys.key(STREAMS.judgeJobs);
    await h.env.redis.xgroup("CREATE", stream, GROUPS.judge, "0", "MKSTREAM");
    const limits = {
      bodyMaxChars: 1000,
      maxBatch: 10,
      highWaterMark: 100,
      stageHighWaterMark: 3,
      defaultBudget: 10,
    };
    const service = new IngestService({
      db: h.env.db,
      redis: h.env.redis,
      keys,
      logger: h.env.logger,
      limits,
    });
    // At the mark: still accepted.
    for (let i = 0; i < 3; i++)
      await h.env.redis.xadd(stream, "*", "envelope", "{}", "attempt", "1");
    await expect(
      service.ingest({ source: "bp-judge", externalId: "ok", body: "fits" }, "test"),
    ).resolves.toMatchObject({ duplicate: false });
    await h.env.redis.xadd(stream, "*", "envelope", "{}", "attempt", "1");
    // A fresh service measures at once (the first one caches its measurement for 250 ms).
    const fresh = new IngestService({
      db: h.env.db,
      redis: h.env.redis,
      keys,
      logger: h.env.logger,
      limits,
    });
    const error = await fresh
      .ingest({ source: "bp-judge", externalId: "over", body: "one too many" }, "test")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe("BACKPRESSURE");
    expect((error as DomainError).data).toMatchObject({
      stage: "judge",
      backlog: 4,
      retryable: true,
    });
    const rows = await h.env.db
      .selectFrom("enriched_trends")
      .select("external_id")
      .where("source", "=", "bp-judge")
      .execute();
    expect(rows.map((r) => r.external_id)).toEqual(["ok"]);
  });
});
