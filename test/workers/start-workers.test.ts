import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { MetricsRegistry } from "../../src/observability/metrics.js";
import type { StageDeps } from "../../src/pipeline/stage.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import type { OutboxRelay } from "../../src/workers/outbox-relay.js";
import { startWorkers } from "../../src/workers/start-workers.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv({
    WEBHOOK_URLS: ["http://127.0.0.1:9/hook"],
    WEBHOOK_SECRET: `whsec_${Buffer.from("start-workers-test-secret").toString("base64")}`,
  });
});

afterAll(() => env?.close());

describe("startWorkers", () => {
  it("should stop the relay it started when a consumer then fails to start", async () => {
    // The webhook stream's key holds a string, so creating the consumer's group fails.
    await env.redis.set(env.keys.key(STREAMS.webhooks), "not a stream");
    const relay = {
      started: 0,
      stopped: 0,
      start() {
        this.started++;
      },
      async stop() {
        this.stopped++;
      },
    };
    // Neither the relay nor the webhook worker reads the stage dependencies beyond these.
    const stageDeps = { config: env.config, db: env.db, logger: env.logger } as StageDeps;

    await expect(
      startWorkers(["relay", "webhooks"], stageDeps, {
        redis: env.redis,
        keys: env.keys,
        metrics: new MetricsRegistry(),
        relay: relay as unknown as OutboxRelay,
      }),
    ).rejects.toThrow(/WRONGTYPE/);
    expect(relay).toMatchObject({ started: 1, stopped: 1 });
  });
});
