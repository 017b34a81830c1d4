import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { enqueueOutbox } from "../../src/db/outbox.js";
import { makeEnvelope } from "../../src/streams/envelope.js";
import { StreamProducer } from "../../src/streams/producer.js";
import { OutboxRelay } from "../../src/workers/outbox-relay.js";
import { eventually } from "../support/app-harness.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
let relay: OutboxRelay;
beforeAll(async () => {
  env = await createTestEnv();
  // A poll interval far beyond the test's patience: only the LISTEN wake-up can publish in time.
  relay = new OutboxRelay({
    db: env.db,
    producer: new StreamProducer(env.redis, env.keys, 1000),
    pollMs: 600_000,
    logger: env.logger,
    listenUrl: env.config.DATABASE_URL,
  });
  relay.start();
  // Let the first (immediate) round and the LISTEN registration happen.
  await new Promise((r) => setTimeout(r, 500));
});
afterAll(async () => {
  await relay?.stop();
  await env?.close();
});

describe("outbox relay wake-up", () => {
  it("should publish a committed row when its transaction commits, without waiting for the poll", async () => {
    await env.db
      .transaction()
      .execute((trx) => enqueueOutbox(trx, "test:wake", makeEnvelope("test", { traceId: "t" })));
    const entries = await eventually(async () => {
      const got = await env.redis.xrange(env.keys.key("test:wake"), "-", "+");
      return got.length ? got : undefined;
    }, 10_000);
    expect(entries).toHaveLength(1);
  });

  it("should not publish a rolled-back row", async () => {
    await env.db
      .transaction()
      .execute(async (trx) => {
        await enqueueOutbox(trx, "test:rollback", makeEnvelope("test", { traceId: "t" }));
        throw new Error("roll back");
      })
      .catch(() => undefined);
    await env.db
      .transaction()
      .execute((trx) => enqueueOutbox(trx, "test:after", makeEnvelope("test", { traceId: "t" })));
    await eventually(
      async () => ((await env.redis.xlen(env.keys.key("test:after"))) === 1 ? true : undefined),
      10_000,
    );
    expect(await env.redis.xlen(env.keys.key("test:rollback"))).toBe(0);
  });
});
