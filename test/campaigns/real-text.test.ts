import { existsSync } from "node:fs";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { runRealTextCampaign } from "../../bench/campaigns/real-text-campaign.js";
import { type AppHarness, startHarness } from "../support/app-harness.js";

// CI size; the whole set (22,783 lines) is `npx tsx bench/campaigns/real-text.ts`.
const LINES = Number(process.env.REAL_TEXT_LINES ?? 300);
const FILE = process.env.REAL_TEXT_FILE ?? "../shared/datasets/davidson-train.jsonl";

let h: AppHarness;
beforeAll(async () => {
  if (existsSync(FILE)) h = await startHarness();
});
afterAll(async () => h?.close());

describe("real-text campaign (CI size)", { timeout: 600_000 }, () => {
  // The data set lives beside the repository (../shared), not in it; a clone without it skips.
  it.skipIf(!existsSync(FILE))(
    "should take real tweets through the whole pipeline and leave none non-terminal or FAILED",
    async () => {
      const report = await runRealTextCampaign({
        url: h.url,
        key: h.keys.integrator,
        db: h.env.db,
        file: FILE,
        limit: LINES,
        settleTimeoutMs: 300_000,
      });
      expect(report.lines).toBe(LINES);
      expect(report.accepted).toBe(LINES);
      expect(report.nonTerminal).toBe(0);
      expect(report.failures).toEqual({});
    },
  );
});
