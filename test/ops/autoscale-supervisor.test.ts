import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createLogger } from "../../src/observability/logger.js";
import { AutoscaleSupervisor } from "../../src/ops/autoscale-supervisor.js";
import { GROUPS, STREAMS } from "../../src/streams/stream-names.js";
import { createTestEnv, type TestEnv } from "../support/test-env.js";

// Stand-in for `node bin/trendgate.js <role>`: the real lag comes from Redis, the processes are
// cheap sleepers, so this tests the loop (read load → decide → start/stop) without booting workers.
const SLEEPER = `process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000);`;

let env: TestEnv;
let supervisor: AutoscaleSupervisor;

beforeAll(async () => {
  env = await createTestEnv();
  supervisor = new AutoscaleSupervisor(env.config, {
    command: [process.execPath, "-e", SLEEPER, "--"],
    metricsPort: 0,
    minWorkers: 1,
    maxWorkers: 3,
    intervalMs: 600_000,
    targetDrainSeconds: 30,
    scaleDownStableMs: 0,
    logger: createLogger("silent"),
  });
  await supervisor.start();
});

afterAll(async () => {
  await supervisor.stop();
  await env.close();
});

const scrape = async () => (await fetch(supervisor.metricsUrl!)).text();

describe("AutoscaleSupervisor", () => {
  it("should start the gateway, relay+maintenance and the minimum of each stage", () => {
    expect(supervisor.processes.count("serve")).toBe(1);
    expect(supervisor.processes.count("worker:relay+maintenance")).toBe(1);
    for (const stage of ["etl", "embedding", "judge", "publisher"])
      expect(supervisor.processes.count(`worker:${stage}`), stage).toBe(1);
  });

  it("should add an ETL worker when the etl group lags, and expose desired and actual counts", async () => {
    const key = env.keys.key(STREAMS.ingest);
    await env.redis.xgroup("CREATE", key, GROUPS.etl, "0", "MKSTREAM");
    for (let i = 0; i < 60; i++) await env.redis.xadd(key, "*", "n", String(i));
    const decisions = await supervisor.evaluate();
    const etl = decisions.find((d) => d.stage === "etl")!;
    expect(etl.lag).toBe(60);
    // No processing rate measured yet: step up by one.
    expect(etl.desired).toBe(2);
    expect(supervisor.processes.count("worker:etl")).toBe(2);
    expect(decisions.find((d) => d.stage === "judge")!.applied).toBe(1);
    const text = await scrape();
    expect(text).toContain('trendgate_autoscale_desired_workers{stage="etl"} 2');
    expect(text).toContain('trendgate_autoscale_workers{stage="etl"} 2');
    expect(text).toContain('trendgate_autoscale_events_total{stage="etl",direction="up"} 1');
  });

  it("should learn the per-worker rate from entries finished under load and shrink the pool one step when it drains", async () => {
    const key = env.keys.key(STREAMS.ingest);
    // A consumer takes and finishes 50 entries between two evaluations, with 10 still waiting.
    const read = (await env.redis.xreadgroup(
      "GROUP",
      GROUPS.etl,
      "c1",
      "COUNT",
      50,
      "STREAMS",
      key,
      ">",
    )) as [string, [string, string[]][]][];
    await env.redis.xack(key, GROUPS.etl, ...read[0]![1].map(([id]) => id));
    const busy = (await supervisor.evaluate()).find((d) => d.stage === "etl")!;
    expect(busy.ratePerWorker).toBeGreaterThan(0);
    // Drain the rest: nothing waits, so the pool goes back towards min, one worker at a time.
    const rest = (await env.redis.xreadgroup(
      "GROUP",
      GROUPS.etl,
      "c1",
      "COUNT",
      50,
      "STREAMS",
      key,
      ">",
    )) as [string, [string, string[]][]][];
    await env.redis.xack(key, GROUPS.etl, ...rest[0]![1].map(([id]) => id));
    await supervisor.evaluate();
    const after = (await supervisor.evaluate()).find((d) => d.stage === "etl")!;
    expect(after.desired).toBe(1);
    expect(supervisor.processes.count("worker:etl")).toBe(1);
    expect(await scrape()).toContain(
      'trendgate_autoscale_events_total{stage="etl",direction="down"} 1',
    );
  });
});
