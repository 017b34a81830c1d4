import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { runFuzzCampaign } from "../../bench/campaigns/fuzz-campaign.js";
import { type AppHarness, startHarness } from "../support/app-harness.js";

// CI size; the full campaign (10,000 cases) is `npx tsx bench/campaigns/fuzz.ts`.
const CASES = Number(process.env.FUZZ_CASES ?? 300);

let h: AppHarness;
beforeAll(async () => {
  h = await startHarness({ config: { RECONCILE_AFTER_MS: 30_000 } });
});
afterAll(async () => h?.close());

describe("fuzz campaign (CI size)", { timeout: 600_000 }, () => {
  it("should answer every schema-driven case without INTERNAL_SERVER_ERROR or partial write, and settle every accepted item", async () => {
    const report = await runFuzzCampaign({
      url: h.url,
      key: h.keys.operator,
      db: h.env.db,
      cases: CASES,
      seed: 12,
      settleTimeoutMs: 120_000,
    });
    expect(report.failures).toEqual([]);
    expect(report.unsettled).toEqual([]);
    expect(report.cases).toBe(CASES);
    // The fuzz reached the resolvers, not only the validation layer.
    expect(report.outcomes.OK ?? 0).toBeGreaterThan(CASES / 10);
  });
});
