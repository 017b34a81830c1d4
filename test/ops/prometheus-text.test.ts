import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";

import {
  histogramBuckets,
  histogramQuantile,
  parsePrometheusText,
  select,
  subtractBuckets,
} from "../../src/ops/prometheus-text.js";

describe("parsePrometheusText", () => {
  it("should read what prom-client renders: labels with escapes, counters, histogram buckets", async () => {
    const registry = new Registry();
    new Gauge({ name: "g", help: "h", labelNames: ["stream", "group"], registers: [registry] }).set(
      { stream: 'a"b\\c', group: "etl" },
      42,
    );
    new Counter({ name: "c_total", help: "h", registers: [registry] }).inc(3);
    const h = new Histogram({
      name: "lat_seconds",
      help: "h",
      labelNames: ["stage"],
      buckets: [0.1, 1, 10],
      registers: [registry],
    });
    for (const v of [0.05, 0.5, 0.5, 5]) h.observe({ stage: "etl" }, v);
    const samples = parsePrometheusText(await registry.metrics());
    expect(select(samples, "g")[0]).toEqual({
      name: "g",
      labels: { stream: 'a"b\\c', group: "etl" },
      value: 42,
    });
    expect(select(samples, "c_total")[0]?.value).toBe(3);
    const buckets = histogramBuckets(samples, "lat_seconds", { stage: "etl" });
    expect([...buckets.entries()]).toEqual([
      [0.1, 1],
      [1, 3],
      [10, 4],
      [Infinity, 4],
    ]);
  });

  it("should skip lines it cannot read instead of failing the scrape", () => {
    expect(parsePrometheusText('# HELP x\nbroken{a="1" 3\nok 1\n')).toEqual([
      { name: "ok", labels: {}, value: 1 },
    ]);
  });
});

describe("histogramQuantile", () => {
  it("should interpolate inside the bucket the rank falls in, as PromQL does", () => {
    const buckets = new Map([
      [0.1, 1],
      [1, 3],
      [10, 4],
      [Infinity, 4],
    ]);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1 + 0.9 * 0.5); // rank 2 of 4, second of two in (0.1, 1]
    expect(histogramQuantile(1, buckets)).toBe(10);
  });

  it("should answer null for an empty histogram and the last finite bound for ranks in +Inf", () => {
    expect(
      histogramQuantile(
        0.5,
        new Map([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeNull();
    expect(
      histogramQuantile(
        0.99,
        new Map([
          [1, 1],
          [Infinity, 10],
        ]),
      ),
    ).toBe(1);
  });

  it("should give the window's histogram when an earlier scrape is subtracted", () => {
    const before = new Map([
      [1, 5],
      [Infinity, 5],
    ]);
    const now = new Map([
      [1, 5],
      [Infinity, 9],
    ]);
    expect([...subtractBuckets(now, before).entries()]).toEqual([
      [1, 0],
      [Infinity, 4],
    ]);
  });
});
