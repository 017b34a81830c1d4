import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Enricher } from "../../src/nlp/enricher.js";
import { createOfflineEnricher } from "../../src/nlp/enricher.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { provenanceSteps } from "../faults/support/fault-helpers.js";
import { type AppHarness, collect, eventually, startHarness } from "../support/app-harness.js";

// The ETL fails with what Postgres says about a bad jsonb value while `broken` is set.
let broken = true;
let enrichCalls = 0;
const realEnricher = await createOfflineEnricher();
const enricher: Enricher = {
  model: realEnricher.model,
  async enrich(input) {
    if (input.body.includes("poison")) {
      enrichCalls += 1;
      if (broken)
        throw Object.assign(new Error("invalid input syntax for type json"), {
          code: "22P02",
          severity: "ERROR",
        });
    }
    return realEnricher.enrich(input);
  },
};

const TREND = /* GraphQL */ `
  query Trend($id: ID!) {
    trend(id: $id) {
      status
      failure {
        stage
        error
        at
      }
    }
  }
`;
const UPDATES = /* GraphQL */ `
  subscription Updates($id: ID) {
    trendUpdated(id: $id) {
      to
      failure {
        stage
        error
      }
    }
  }
`;

let h: AppHarness;
beforeAll(async () => {
  h = await startHarness({
    workers: ["etl", "relay"],
    overrides: { enricher },
    config: { RETRY_MAX_ATTEMPTS: 5 },
  });
});
afterAll(async () => h?.close());

describe("an item whose stage dead-letters", () => {
  it("should become FAILED at once with the stage and error on the trend, in provenance and on trendUpdated; replay moves it on", async () => {
    const subscribers = h.app.services.pubsub.subscriberCount();
    const updates = collect<{
      trendUpdated: { to: string; failure: { stage: string; error: string } | null };
    }>(h.ws(h.keys.operator), UPDATES, {});
    // A live subscription without a cursor hears only what comes after it is established: on a
    // busy machine the item could fail before the socket had subscribed.
    await eventually(async () =>
      h.app.services.pubsub.subscriberCount() > subscribers ? true : undefined,
    );
    const res = await h.gql<{ ingestTrend: { id: string } }>(
      `mutation { ingestTrend(input: { source: "fail", externalId: "f-1", body: "a poison pill" }) { id } }`,
      undefined,
      h.keys.integrator,
    );
    const id = res.data!.ingestTrend.id;
    const failed = await eventually(async () => {
      const r = await h.gql<{
        trend: { status: string; failure: { stage: string; error: string; at: string } | null };
      }>(TREND, { id });
      return r.data?.trend.status === "FAILED" ? r.data.trend : undefined;
    }, 30_000);
    expect(failed.failure).toMatchObject({
      stage: "etl",
      error: "22P02: invalid input syntax for type json",
    });
    // Deterministic (SQLSTATE 22): one attempt, not five.
    expect(enrichCalls).toBe(1);
    expect(await provenanceSteps(h.env.db, id)).toContain("etl_failed");
    const events = await eventually(async () => {
      const e = updates.items.map((i) => i.data!.trendUpdated);
      return e.some((u) => u.to === "FAILED") ? e : undefined;
    });
    expect(events.find((u) => u.to === "FAILED")!.failure).toMatchObject({ stage: "etl" });

    broken = false;
    const replay = await h.app.services.deadLetters.replay(STREAMS.ingest, { actor: "ops" });
    expect(replay.replayed).toBe(1);
    const enriched = await eventually(async () => {
      const r = await h.gql<{ trend: { status: string; failure: unknown } }>(TREND, { id });
      return r.data?.trend.status === "ENRICHED" ? r.data.trend : undefined;
    }, 30_000);
    expect(enriched.failure).toBeNull();
    const steps = await provenanceSteps(h.env.db, id);
    expect(steps.filter((s) => ["etl_failed", "replay", "etl"].includes(s))).toEqual([
      "etl_failed",
      "replay",
      "etl",
    ]);
    updates.unsubscribe();
  });

  it("should leave an item that has moved past the stage as it is when a late duplicate dead-letters", async () => {
    const { markStageFailed } = await import("../../src/pipeline/stage-failure.js");
    const res = await h.gql<{ ingestTrend: { id: string } }>(
      `mutation { ingestTrend(input: { source: "fail", externalId: "f-2", body: "fine text" }) { id } }`,
      undefined,
      h.keys.integrator,
    );
    const id = res.data!.ingestTrend.id;
    await eventually(
      async () =>
        (await h.gql<{ trend: { status: string } }>(TREND, { id })).data?.trend.status ===
        "ENRICHED"
          ? true
          : undefined,
      30_000,
    );
    expect(
      await markStageFailed(h.env.db, {
        trendId: id,
        stage: "etl",
        error: new Error("late"),
        code: "X",
      }),
    ).toBe(false);
    expect((await h.gql<{ trend: { status: string } }>(TREND, { id })).data?.trend.status).toBe(
      "ENRICHED",
    );
  });
});
