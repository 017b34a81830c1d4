import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  dueBy,
  LoadtestError,
  type LoadtestReport,
  parseSteps,
  runLoadtest,
} from "../../src/ops/loadtest.js";
import { renderLoadtestHtml, renderLoadtestSvg } from "../../src/ops/loadtest-chart.js";
import { keyFromEnv } from "../../src/ops/loadtest-command.js";
import { createLoadtestMix, parseMix } from "../../src/ops/loadtest-mix.js";
import { type AppHarness, startHarness } from "../support/app-harness.js";

describe("load test options", () => {
  it("should parse stepped rates and integrate them into items due", () => {
    const steps = parseSteps("20:30, 80:30,20:30");
    expect(steps).toEqual([
      { rate: 20, seconds: 30 },
      { rate: 80, seconds: 30 },
      { rate: 20, seconds: 30 },
    ]);
    expect(dueBy(steps, 0)).toBe(0);
    expect(dueBy(steps, 30)).toBe(600);
    expect(dueBy(steps, 45)).toBe(1800);
    expect(dueBy(steps, 1000)).toBe(3600);
  });

  it("should refuse a step that is not rate:seconds with LOADTEST_BAD_OPTIONS", () => {
    for (const bad of ["", "20", "0:10", "x:y", "10:-1"]) {
      let error: unknown;
      try {
        parseSteps(bad);
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(LoadtestError);
      expect((error as LoadtestError).code).toBe("LOADTEST_BAD_OPTIONS");
    }
  });

  it("should parse --mix with unnamed kinds at 0, post only what it names, and refuse bad weights", () => {
    const weights = parseMix("clean=1");
    expect(weights).toEqual({ clean: 1, toxic: 0, unsure: 0, duplicate: 0, malformed: 0 });
    const next = createLoadtestMix("mix-test", 1, weights);
    expect(new Set(Array.from({ length: 200 }, () => next().kind))).toEqual(new Set(["clean"]));
    for (const bad of ["clean", "clean=-1", "spam=1", "clean=0", "clean=x"]) {
      let error: unknown;
      try {
        parseMix(bad);
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(LoadtestError);
      expect((error as LoadtestError).code).toBe("LOADTEST_BAD_OPTIONS");
    }
  });

  it("should take an integrator key from TRENDGATE_API_KEYS, else an operator's", () => {
    expect(keyFromEnv({ TRENDGATE_API_KEYS: "moderator:m1, integrator:i1,operator:o1" })).toBe(
      "i1",
    );
    expect(keyFromEnv({ TRENDGATE_API_KEYS: "operator:o:with:colons" })).toBe("o:with:colons");
    expect(keyFromEnv({})).toBeUndefined();
  });

  it("should mix every kind of item, re-posting earlier keys as duplicates", () => {
    const next = createLoadtestMix("run", 3);
    const items = Array.from({ length: 400 }, next);
    const kinds = new Set(items.map((i) => i.kind));
    expect([...kinds].sort()).toEqual(["clean", "duplicate", "malformed", "toxic", "unsure"]);
    const firstSeen = new Set<string>();
    for (const item of items) {
      const key = `${item.input.source}/${item.input.externalId}`;
      if (item.kind === "duplicate") expect(firstSeen.has(key), key).toBe(true);
      else if (item.kind !== "malformed") firstSeen.add(key);
    }
  });
});

const METRICS_TOKEN = "loadtest-metrics-token-0123456789";

describe("runLoadtest against a running gateway", () => {
  let harness: AppHarness;
  let report: LoadtestReport;

  beforeAll(async () => {
    harness = await startHarness({ config: { CLAIM_IDLE_MS: 2000, METRICS_TOKEN: METRICS_TOKEN } });
    report = await runLoadtest({
      url: `${harness.url}/graphql`,
      key: harness.keys.integrator,
      metricsToken: METRICS_TOKEN,
      steps: [{ rate: 4, seconds: 3 }],
      seed: 5,
      sampleEveryMs: 500,
      drainTimeoutMs: 90_000,
    });
  }, 150_000);

  afterAll(async () => {
    await harness?.close();
  });

  it("should send the planned items and account for each as accepted, refused, invalid or error", () => {
    const c = report.counts;
    expect(c.planned).toBe(12);
    expect(c.sent).toBe(12);
    expect(c.accepted + c.refusedBackpressure + c.invalid + c.errors).toBe(c.sent);
    expect(c.errors).toBe(0);
    expect(c.byKind.malformed.accepted).toBe(0);
    expect(c.byKind.malformed.invalid).toBe(c.byKind.malformed.sent);
    expect(c.byKind.duplicate.duplicates).toBe(c.byKind.duplicate.accepted);
  });

  it("should wait until every new item settled and read per-stage timings from provenance", () => {
    expect(report.drained).toBe(true);
    const fresh = report.counts.accepted - report.counts.duplicates;
    expect(report.settled).toBe(fresh);
    expect(report.notSettled).toBe(0);
    expect(Object.values(report.finalStates).reduce((a, b) => a + b, 0)).toBe(fresh);
    for (const stage of ["etl", "embed", "judge"])
      expect(report.stageLatencyMs[stage]?.n, stage).toBe(fresh);
    expect(report.endToEndMs.n).toBe(fresh);
    expect(report.endToEndMs.p50).toBeGreaterThan(0);
  });

  it("should sample lag and consumers from /metrics and pipelineHealth while it runs", () => {
    expect(report.samples.length).toBeGreaterThan(3);
    expect(
      report.samples.every((s) => s.lag.etl !== undefined && s.consumers.etl !== undefined),
    ).toBe(true);
    expect(report.samples.some((s) => s.consumers.etl! >= 1)).toBe(true);
  });

  it("should draw the run as an SVG chart inside an HTML page", () => {
    const svg = renderLoadtestSvg(report);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<polyline/g)?.length).toBeGreaterThan(4);
    expect(renderLoadtestHtml(report)).toContain("end to end");
  });

  it("should stop at once with LOADTEST_UNAUTHORIZED when the gateway refuses the key", async () => {
    const error = await runLoadtest({
      url: `${harness.url}/graphql`,
      key: "not-a-key",
      steps: [{ rate: 1, seconds: 1 }],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadtestError);
    expect((error as LoadtestError).code).toBe("LOADTEST_UNAUTHORIZED");
  });

  it("should stop at once with LOADTEST_UNREACHABLE when nothing answers", async () => {
    const error = await runLoadtest({
      url: "http://127.0.0.1:9/graphql",
      key: "k",
      steps: [{ rate: 1, seconds: 1 }],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadtestError);
    expect((error as LoadtestError).code).toBe("LOADTEST_UNREACHABLE");
  });
});
