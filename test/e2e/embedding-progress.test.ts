import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { type AppHarness, startHarness } from "../support/app-harness.js";
import { flatEmbedder, seedModelRecords } from "../support/stage-fixtures.js";

/**
 * The `embeddingProgress` query (issue 15, item 1): re-embedding progress after an EMBEDDER
 * change, read from Postgres, measured against the model the running app embeds with.
 */

/** Its model name is the point: a name no configuration gives, so it can only come from the app. */
const currentEmbedder = flatEmbedder("model-b");

let h: AppHarness;
beforeAll(async () => {
  // Gateway only: no embedding worker, so no re-embedding pass moves the seeded records.
  h = await startHarness({ workers: [], overrides: { embedder: currentEmbedder } });
}, 60_000);
afterAll(async () => h?.close());

interface Progress {
  embeddingProgress: {
    model: string;
    records: { model: string; records: number }[];
    total: number;
    pending: number;
    done: number;
  };
}
const PROGRESS = "{ embeddingProgress { model records { model records } total pending done at } }";

describe("embeddingProgress", { timeout: 60_000 }, () => {
  it("should report everything done when there is no record", async () => {
    const r = await h.gql<Progress>(PROGRESS);
    expect(r.errors).toBeUndefined();
    expect(r.data!.embeddingProgress).toMatchObject({
      model: "model-b",
      records: [],
      total: 0,
      pending: 0,
      done: 1,
    });
  });

  it("should count records per model and those another model made as pending", async () => {
    await seedModelRecords(h.env.db, 3, "model-a");
    await seedModelRecords(h.env.db, 1, "model-b");
    const r = await h.gql<Progress>(PROGRESS, {}, h.keys.viewer);
    expect(r.errors).toBeUndefined();
    expect(r.data!.embeddingProgress).toEqual({
      model: "model-b",
      records: [
        { model: "model-a", records: 3 },
        { model: "model-b", records: 1 },
      ],
      total: 4,
      pending: 3,
      done: 0.25,
      at: expect.any(String),
    });
  });

  it("should answer every caller as pipelineHealth does (UNAUTHENTICATED without a key)", async () => {
    const callers: [string, string | null][] = [
      ...Object.entries(h.keys),
      ["no key", null],
      ["unknown key", "tg_not_a_key"],
    ];
    const outcome = (r: { data?: unknown; errors?: { extensions?: { code?: string } }[] }) =>
      r.errors?.[0]?.extensions?.code ?? "OK";
    for (const [who, key] of callers) {
      const progress = await h.gql(PROGRESS, {}, key);
      const health = await h.gql("{ pipelineHealth { outboxBacklog } }", {}, key);
      expect([who, outcome(progress)]).toEqual([who, outcome(health)]);
    }
    expect(outcome(await h.gql(PROGRESS, {}, null))).toBe("UNAUTHENTICATED");
    expect(outcome(await h.gql(PROGRESS, {}, h.keys.operator))).toBe("OK");
    expect(outcome(await h.gql(PROGRESS, {}, h.keys.viewer))).toBe("OK");
  });
});
