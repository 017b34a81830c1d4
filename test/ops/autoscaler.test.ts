import { describe, expect, it } from "vitest";

import { desiredWorkers, ScaleDownDamper } from "../../src/ops/autoscaler.js";

const base = {
  lag: 0,
  pending: 0,
  ratePerWorker: 10,
  current: 1,
  min: 1,
  max: 8,
  targetDrainSeconds: 10,
};

describe("desiredWorkers", () => {
  it("should size the pool so the backlog drains within the target", () => {
    // 300 waiting, 10/s per worker, 10 s to drain → 3 workers.
    expect(desiredWorkers({ ...base, lag: 280, pending: 20 })).toBe(3);
    expect(desiredWorkers({ ...base, lag: 301 })).toBe(4);
  });

  it("should add workers for the arrival rate on top of the backlog", () => {
    expect(desiredWorkers({ ...base, lag: 100, arrivalRate: 25 })).toBe(4); // (25 + 10) / 10 → 3.5 → 4
    expect(desiredWorkers({ ...base, arrivalRate: 25 })).toBe(3);
  });

  it("should stay within min and max", () => {
    expect(desiredWorkers({ ...base, lag: 1_000_000 })).toBe(8);
    expect(desiredWorkers({ ...base, min: 2 })).toBe(2);
    expect(desiredWorkers({ ...base, min: 0, current: 3 })).toBe(0);
  });

  it("should keep one worker while any work waits, even when the backlog is tiny", () => {
    expect(desiredWorkers({ ...base, min: 0, lag: 1, ratePerWorker: 1000 })).toBe(1);
  });

  it("should step up by one while entries wait undelivered and no rate is measured", () => {
    expect(desiredWorkers({ ...base, ratePerWorker: null, current: 2, lag: 500 })).toBe(3);
    expect(desiredWorkers({ ...base, ratePerWorker: 0, current: 8, lag: 500 })).toBe(8);
    expect(desiredWorkers({ ...base, ratePerWorker: null, current: 3 })).toBe(1);
  });

  it("should hold the pool when work is only in flight and no rate is measured", () => {
    expect(desiredWorkers({ ...base, ratePerWorker: null, current: 2, pending: 3 })).toBe(2);
    expect(desiredWorkers({ ...base, ratePerWorker: null, current: 2, arrivalRate: 1 })).toBe(2);
  });

  it("should treat max below min as min", () => {
    expect(desiredWorkers({ ...base, min: 3, max: 1, lag: 10_000 })).toBe(3);
  });
});

describe("ScaleDownDamper", () => {
  it("should scale up at once and down only after the pool was too big for the whole window", () => {
    const damper = new ScaleDownDamper(10_000);
    expect(damper.apply("etl", 2, 5, 0)).toBe(5);
    expect(damper.apply("etl", 5, 1, 1_000)).toBe(5);
    expect(damper.apply("etl", 5, 1, 9_000)).toBe(5);
    // One step at a time once the window has passed.
    expect(damper.apply("etl", 5, 1, 11_001)).toBe(4);
  });

  it("should restart the window when demand comes back", () => {
    const damper = new ScaleDownDamper(10_000);
    expect(damper.apply("etl", 4, 1, 0)).toBe(4);
    expect(damper.apply("etl", 4, 4, 5_000)).toBe(4);
    expect(damper.apply("etl", 4, 1, 12_000)).toBe(4);
    expect(damper.apply("etl", 4, 1, 22_001)).toBe(3);
  });
});
