import { describe, expect, it } from "vitest";

import { domainOf, niceMax, timeTicks } from "../../web/src/ui/judge/chart-scale.js";
import {
  percent,
  seriesByVersion,
  type StatsBucket,
  totalsByVersion,
} from "../../web/src/ui/judge/judge-series.js";

/** The Judge page's arithmetic: series per policy version, window totals, the time axis. */
function bucket(
  start: string,
  policyVersion: number | null,
  overrides: Partial<StatsBucket> = {},
): StatsBucket {
  return {
    start,
    policyVersion,
    judged: 10,
    escalationRate: 0.2,
    autoPublishRate: 0.7,
    autoRejectRate: 0.1,
    auditSamples: 0,
    auditResolved: 0,
    auditDisagreementRate: null,
    resolved: 0,
    overturns: 0,
    overturnRate: null,
    ...overrides,
  };
}

describe("judge page series", () => {
  it("should give one time-ordered series per policy version and leave buckets without a value out", () => {
    const buckets = [
      bucket("2026-03-01T11:00:00Z", 2, { escalationRate: 0.1 }),
      bucket("2026-03-01T10:00:00Z", 1, { escalationRate: 0.5 }),
      bucket("2026-03-01T11:00:00Z", 1, {
        escalationRate: 0.4,
        auditDisagreementRate: 0.25,
        auditResolved: 4,
      }),
      bucket("2026-03-01T09:00:00Z", null),
    ];
    const escalation = seriesByVersion(buckets, "escalationRate");
    expect(escalation.map((s) => s.version)).toEqual([null, 1, 2]);
    expect(escalation[1]!.points).toEqual([
      { x: Date.parse("2026-03-01T10:00:00Z"), y: 0.5 },
      { x: Date.parse("2026-03-01T11:00:00Z"), y: 0.4 },
    ]);
    const audit = seriesByVersion(buckets, "auditDisagreementRate");
    expect(audit).toEqual([
      { version: 1, points: [{ x: Date.parse("2026-03-01T11:00:00Z"), y: 0.25 }] },
    ]);
  });

  it("should weight each version's window totals by the bucket counts, newest version first", () => {
    const totals = totalsByVersion([
      bucket("2026-03-01T10:00:00Z", 1, {
        judged: 30,
        escalationRate: 0.5,
        auditResolved: 2,
        auditDisagreementRate: 0.5,
        resolved: 10,
        overturns: 1,
      }),
      bucket("2026-03-01T11:00:00Z", 1, {
        judged: 10,
        escalationRate: 0.1,
        auditResolved: 6,
        auditDisagreementRate: 0,
        resolved: 5,
        overturns: 2,
      }),
      bucket("2026-03-01T11:00:00Z", 2, { judged: 5 }),
    ]);
    expect(totals.map((t) => t.version)).toEqual([2, 1]);
    const v1 = totals[1]!;
    expect(v1.judged).toBe(40);
    expect(v1.escalationRate).toBeCloseTo((15 + 1) / 40);
    expect(v1.auditDisagreementRate).toBeCloseTo(1 / 8);
    expect(v1.overturnRate).toBeCloseTo(3 / 15);
    expect(totals[0]).toMatchObject({ judged: 5, auditDisagreementRate: null, overturnRate: null });
  });

  it("should span whole buckets and tick on round multiples of the bucket", () => {
    const since = Date.parse("2026-03-01T10:07:00Z");
    const now = Date.parse("2026-03-02T10:07:00Z");
    const domain = domainOf(since, now, 60);
    expect(domain).toEqual({
      from: Date.parse("2026-03-01T10:00:00Z"),
      to: Date.parse("2026-03-02T11:00:00Z"),
      bucketMs: 3_600_000,
    });
    const ticks = timeTicks(domain);
    expect(ticks.map((t) => new Date(t).toISOString().slice(11, 16))).toEqual([
      "12:00",
      "18:00",
      "00:00",
      "06:00",
    ]);
    expect(ticks.every((t) => t >= domain.from && t <= domain.to)).toBe(true);
  });

  it("should round a count axis up to 1, 2, 4 or 5 times a power of ten", () => {
    expect([0, 1, 3, 7, 304, 1000, 1001].map(niceMax)).toEqual([1, 1, 4, 10, 400, 1000, 2000]);
  });

  it("should print a missing rate as a dash", () => {
    expect(percent(null)).toBe("—");
    expect(percent(0.0123, 2)).toBe("1.23 %");
  });
});
