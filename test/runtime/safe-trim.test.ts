import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { trimAcknowledged } from "../../src/workers/runtime/safe-trim.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => env?.close());

let n = 0;
async function stream(entries: number, group?: string): Promise<{ key: string; ids: string[] }> {
  const key = env.keys.key(`trim-${++n}`);
  if (group) await env.redis.xgroup("CREATE", key, group, "0", "MKSTREAM");
  const pipeline = env.redis.pipeline();
  for (let i = 0; i < entries; i++) pipeline.xadd(key, "*", "i", String(i));
  const ids = ((await pipeline.exec()) ?? []).map(([, id]) => id as string);
  return { key, ids };
}

async function deliver(key: string, group: string, count: number): Promise<string[]> {
  const reply = (await env.redis.xreadgroup(
    "GROUP",
    group,
    "c",
    "COUNT",
    count,
    "STREAMS",
    key,
    ">",
  )) as [string, [string, string[]][]][];
  return reply[0]![1].map(([id]) => id);
}

describe("trimAcknowledged", () => {
  it("should keep every entry a stalled group has not acknowledged, however far past maxLen", async () => {
    const { key, ids } = await stream(300, "judge");
    await deliver(key, "judge", 100); // delivered, never acknowledged: the stage stalled
    expect(await trimAcknowledged(env.redis, key, 50, ["judge"])).toEqual({
      removed: 0,
      mode: "minid",
    });
    expect(await env.redis.xlen(key)).toBe(300);

    // Once the first 100 are acknowledged, exactly they go: 200 unacknowledged remain (> maxLen).
    await env.redis.xack(key, "judge", ...ids.slice(0, 100));
    expect(await trimAcknowledged(env.redis, key, 50, ["judge"])).toEqual({
      removed: 100,
      mode: "minid",
    });
    const [first] = await env.redis.xrange(key, "-", "+", "COUNT", 1);
    expect(first![0]).toBe(ids[100]);
  });

  it("should keep maxLen entries of acknowledged history when the group is caught up", async () => {
    const { key, ids } = await stream(300, "etl");
    await env.redis.xack(key, "etl", ...(await deliver(key, "etl", 300)));
    expect(await trimAcknowledged(env.redis, key, 50, ["etl"])).toEqual({
      removed: 250,
      mode: "maxlen",
    });
    const [first] = await env.redis.xrange(key, "-", "+", "COUNT", 1);
    expect(first![0]).toBe(ids[250]);
  });

  it("should hold the cut at the slowest of several groups", async () => {
    const { key, ids } = await stream(200, "fast");
    await env.redis.xgroup("CREATE", key, "slow", "0");
    await env.redis.xack(key, "fast", ...(await deliver(key, "fast", 200)));
    await env.redis.xack(key, "slow", ...(await deliver(key, "slow", 120)));
    // slow has 80 undelivered: with maxLen 50 the cut is right after its last delivered entry.
    expect(await trimAcknowledged(env.redis, key, 50, ["fast", "slow"])).toEqual({
      removed: 120,
      mode: "minid",
    });
    const [first] = await env.redis.xrange(key, "-", "+", "COUNT", 1);
    expect(first![0]).toBe(ids[120]);
  });

  it("should trim nothing while an expected group does not exist yet", async () => {
    const { key } = await stream(100);
    expect(await trimAcknowledged(env.redis, key, 10, ["publisher"])).toEqual({
      removed: 0,
      mode: "missing-group",
    });
    expect(await env.redis.xlen(key)).toBe(100);
  });

  it("should answer for a stream that does not exist", async () => {
    expect(await trimAcknowledged(env.redis, env.keys.key("nothing"), 10, ["etl"])).toEqual({
      removed: 0,
      mode: "short",
    });
  });
});
