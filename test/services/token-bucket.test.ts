import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { TokenBucket } from "../../src/services/token-bucket.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
}, 60_000);
afterAll(async () => env?.close());

describe("token bucket", () => {
  it("should let a key spend its capacity at once, then refuse with the wait for the next token", async () => {
    const bucket = new TokenBucket(env.redis, { capacity: 3, periodMs: 60_000 });
    const key = env.keys.key("bucket:a");
    for (let i = 0; i < 3; i++) expect((await bucket.take(key)).taken).toBe(true);
    const refused = await bucket.take(key);
    expect(refused.taken).toBe(false);
    // One token refills every 20 s; a little of it may already have come back.
    expect(refused.waitMs).toBeGreaterThan(15_000);
    expect(refused.waitMs).toBeLessThanOrEqual(20_000);
  });

  it("should keep keys apart and refuse a cost over the capacity without spending", async () => {
    const bucket = new TokenBucket(env.redis, { capacity: 5, periodMs: 60_000 });
    expect((await bucket.take(env.keys.key("bucket:b"), 5)).taken).toBe(true);
    expect((await bucket.take(env.keys.key("bucket:c"), 5)).taken).toBe(true);
    const over = await bucket.take(env.keys.key("bucket:d"), 6);
    expect(over.taken).toBe(false);
    expect((await bucket.take(env.keys.key("bucket:d"), 5)).taken).toBe(true);
  });

  it("should refill continuously rather than per window", async () => {
    // 10 tokens per 5 s: one every 500 ms, slow enough that a busy machine cannot refill one
    // between the two calls, yet a token is back long before the 5 s window would end.
    const bucket = new TokenBucket(env.redis, { capacity: 10, periodMs: 5_000 });
    const key = env.keys.key("bucket:e");
    expect((await bucket.take(key, 10)).taken).toBe(true);
    const refused = await bucket.take(key);
    expect(refused.taken).toBe(false);
    expect(refused.waitMs).toBeLessThanOrEqual(500);
    await new Promise((r) => setTimeout(r, refused.waitMs + 5));
    expect((await bucket.take(key)).taken).toBe(true);
  });
});
