import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { makeEnvelope } from "../../src/streams/envelope.js";
import { StreamProducer } from "../../src/streams/producer.js";
import { GROUPS, STREAMS } from "../../src/streams/stream-names.js";
import { LagMonitor } from "../../src/workers/lag-monitor.js";
import { type AppHarness, startHarness } from "../support/app-harness.js";

let h: AppHarness;
beforeAll(async () => {
  // Gateway only: nothing consumes, so lag builds up on purpose.
  h = await startHarness({
    workers: [],
    config: { METRICS_TOKEN: "metrics-test-token-0123456789" },
  });
});
afterAll(async () => h?.close());

async function fillIngest(n: number) {
  const key = h.env.keys.key(STREAMS.ingest);
  await h.env.redis.xgroup("CREATE", key, GROUPS.etl, "0", "MKSTREAM").catch(() => undefined);
  const producer = new StreamProducer(h.env.redis, h.env.keys, 10_000);
  for (let i = 0; i < n; i++)
    await producer.add(STREAMS.ingest, makeEnvelope("test", { traceId: "t" }));
}

describe("metrics and lag alerts", () => {
  it("should expose stream, group, stage and escalation figures at /metrics", async () => {
    await fillIngest(3);
    const res = await fetch(`${h.url}/metrics`, {
      headers: { authorization: "Bearer metrics-test-token-0123456789" },
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(
      /trendgate_stream_group_lag\{stream="trend:ingest:stream",group="etl"\} 3/,
    );
    expect(text).toContain("trendgate_stream_group_pending");
    expect(text).toContain("trendgate_stream_group_oldest_pending_seconds");
    expect(text).toContain("trendgate_stream_group_consumers");
    expect(text).toMatch(/trendgate_escalations_open\{issue_type="toxicity"\} 0/);
    expect(text).toContain("trendgate_budget_overruns 0");
    expect(text).toContain("trendgate_dead_letters");
    expect(text).toContain("trendgate_ws_connections");
    expect(text).toContain("# TYPE trendgate_stage_duration_seconds histogram");
  });

  it("should raise one operator alert per lag breach and re-arm once the group catches up", async () => {
    const monitor = new LagMonitor({
      redis: h.env.redis,
      keys: h.env.keys,
      producer: new StreamProducer(h.env.redis, h.env.keys, 10_000),
      logger: h.env.logger,
      streams: [STREAMS.ingest],
      lagThreshold: 5,
      pendingAgeThresholdMs: 3_600_000,
      intervalMs: 1000,
    });
    await fillIngest(10);
    expect(await monitor.check()).toEqual([
      { stream: STREAMS.ingest, group: GROUPS.etl, kind: "LAG" },
    ]);
    expect(await monitor.check()).toEqual([]);
    const alerts = await h.env.redis.xrange(h.env.keys.key(STREAMS.operatorAlerts), "-", "+");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]![1][1]).toContain("STREAM_LAG");

    // The group catches up: read and acknowledge everything.
    const key = h.env.keys.key(STREAMS.ingest);
    const read = (await h.env.redis.xreadgroup(
      "GROUP",
      GROUPS.etl,
      "c1",
      "COUNT",
      1000,
      "STREAMS",
      key,
      ">",
    )) as [string, [string, string[]][]][];
    await h.env.redis.xack(key, GROUPS.etl, ...read[0]![1].map(([id]) => id));
    expect(await monitor.check()).toEqual([]);
    await fillIngest(6);
    expect(await monitor.check()).toHaveLength(1);
  });
});
