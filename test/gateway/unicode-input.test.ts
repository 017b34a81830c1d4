import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { appendProvenance } from "../../src/db/provenance.js";
import { type AppHarness, eventually, startHarness } from "../support/app-harness.js";

const INGEST = /* GraphQL */ `
  mutation Ingest($input: TrendInput!) {
    ingestTrend(input: $input) {
      id
      status
    }
  }
`;
const TREND = /* GraphQL */ `
  query Trend($id: ID!) {
    trend(id: $id) {
      status
      body
      summary
    }
  }
`;

let h: AppHarness;
beforeAll(async () => {
  h = await startHarness({ workers: ["etl", "relay"] });
});
afterAll(async () => h?.close());

async function ingest(body: string, externalId: string) {
  return h.gql<{ ingestTrend: { id: string; status: string } }>(
    INGEST,
    { input: { source: "unicode", externalId, body } },
    h.keys.integrator,
  );
}

async function settled(
  id: string,
): Promise<{ status: string; body: string; summary: string | null }> {
  return eventually(async () => {
    const r = await h.gql<{ trend: { status: string; body: string; summary: string | null } }>(
      TREND,
      { id },
    );
    return r.data?.trend.status === "ENRICHED" ? r.data.trend : undefined;
  }, 30_000);
}

describe("text made valid before it reaches Postgres", () => {
  it("should enrich a body of 300 emoji (its prompt snippet once cut a surrogate pair: 22P02)", async () => {
    const res = await ingest("😀".repeat(300), "emoji-300");
    expect(res.errors).toBeUndefined();
    const trend = await settled(res.data!.ingestTrend.id);
    expect(trend.body).toBe("😀".repeat(300));
    const provenance = await h.env.db
      .selectFrom("provenance_log")
      .select("input")
      .where("trend_id", "=", res.data!.ingestTrend.id)
      .where("step", "=", "etl")
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(provenance.input)).not.toContain("\uFFFD");
  });

  it("should enrich a tweet with an emoji where the prompt snippet is cut", async () => {
    const res = await ingest(`${"x".repeat(76)}😂😂😂 lol that is so funny 👨‍👩‍👧`, "emoji-tweet");
    expect(res.errors).toBeUndefined();
    await settled(res.data!.ingestTrend.id);
  });

  it("should store a lone surrogate as U+FFFD and enrich the item", async () => {
    const res = await ingest("broken \uD83D emoji and \uDE00 here", "lone");
    expect(res.errors).toBeUndefined();
    const trend = await settled(res.data!.ingestTrend.id);
    expect(trend.body).toBe("broken \uFFFD emoji and \uFFFD here");
  });

  it("should remove U+0000 instead of failing with INTERNAL_SERVER_ERROR", async () => {
    const res = await ingest("null\u0000byte", "nul");
    expect(res.errors).toBeUndefined();
    const trend = await settled(res.data!.ingestTrend.id);
    expect(trend.body).toBe("nullbyte");
  });

  it("should refuse a body made only of U+0000 with BAD_USER_INPUT naming the field", async () => {
    const res = await ingest("\u0000\u0000", "nul-only");
    expect(res.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(res.errors?.[0]?.extensions?.field).toBe("input.body");
  });

  it("should make any text parameter valid, whatever query sends it", async () => {
    const row = await appendProvenance(h.env.db, {
      traceId: "t".repeat(32),
      trendId: null,
      step: "step\u0000\uD800",
      actor: "actor",
      input: { ["key\u0000"]: "v\uDC00" },
    });
    expect(row.step).toBe("step\uFFFD");
    expect(row.input).toEqual({ key: "v\uFFFD" });
  });
});
