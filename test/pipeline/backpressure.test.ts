import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

import { DomainError } from "../../src/domain/domain-error.js";
import { Backpressure } from "../../src/pipeline/ingest/backpressure.js";
import { STREAMS } from "../../src/streams/stream-names.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env?.close();
});

const gate = (ingestHighWaterMark: number) =>
  new Backpressure({
    db: env.db,
    redis: env.redis,
    keys: env.keys,
    ingestHighWaterMark,
    stageHighWaterMark: 1000,
  });

describe("ingest backpressure", () => {
  it("should count the backlog once for the requests that arrive while a count runs", async () => {
    const backpressure = gate(1000);
    const outboxCounts = vi.spyOn(env.db, "selectFrom");
    await Promise.all(Array.from({ length: 20 }, () => backpressure.check(1)));
    expect(outboxCounts.mock.calls.filter(([table]) => table === "outbox")).toHaveLength(1);
    outboxCounts.mockRestore();
  });

  it("should refuse with BACKPRESSURE once the shared count shows ETL over its mark", async () => {
    await env.redis.xadd(env.keys.key(STREAMS.ingest), "*", "envelope", "{}");
    await env.redis.xadd(env.keys.key(STREAMS.ingest), "*", "envelope", "{}");
    const backpressure = gate(2);
    const checks = await Promise.allSettled(Array.from({ length: 5 }, () => backpressure.check(1)));
    for (const check of checks) {
      expect(check.status).toBe("rejected");
      const reason = (check as PromiseRejectedResult).reason as DomainError;
      expect(reason).toBeInstanceOf(DomainError);
      expect(reason.code).toBe("BACKPRESSURE");
    }
  });
});
