import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { hashEmbedder, runTrimCampaign } from "../../bench/campaigns/trim-campaign.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "trendgate-trim-"));
  env = await createTestEnv({
    STREAM_MAX_LEN: 100,
    SWEEP_INTERVAL_MS: 200,
    OUTBOX_POLL_MS: 50,
    WORKER_BLOCK_MS: 200,
    CLAIM_IDLE_MS: 1000,
    RECONCILE_AFTER_MS: 2000,
    BOOTSTRAP_KEYS: false,
    VECTOR_STORE_PATH: path.join(dir, "vectors"),
    PUBLISH_JSONL_PATH: path.join(dir, "published.jsonl"),
  });
});
afterAll(async () => {
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("trim campaign (CI size: 3 × STREAM_MAX_LEN = 300 items)", { timeout: 600_000 }, () => {
  it("should strand no item while the judge stalls and the streams are trimmed, and repair lost events", async () => {
    const report = await runTrimCampaign({
      config: env.config,
      db: env.db,
      redis: env.redis,
      keys: env.keys,
      multiple: 3,
      lostEvents: 5,
      overrides: { embedder: hashEmbedder, logger: env.logger },
    });
    // Every judge job survived the trims while nobody acknowledged it (3 × STREAM_MAX_LEN).
    expect(report.judgeStreamWhileStalled).toBe(300);
    // Acknowledged history was trimmed down to STREAM_MAX_LEN meanwhile.
    expect(report.trimmed[STREAMS.ingest]).toBe(200);
    expect(report.trimmed[STREAMS.embeddingJobs]).toBe(200);
    // The five lost jobs were re-enqueued by the reconciler, nothing else was.
    expect(report.reconcilerRepairs).toEqual({ judge: 5 });
    expect(report.stranded).toBe(0);
  });
});
